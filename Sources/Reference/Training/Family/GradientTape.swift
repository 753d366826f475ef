// A small reverse-mode tape for the differentiable record-family model: every op computes its output
// into a fresh `TapeBuffer` and records a closure that, run in reverse order, adds the gradients of its
// inputs (activations and parameters) from its output's gradient. Float32, flat row-major buffers.

/// One activation on the tape: `count` floats of value and, once something asks for it, as many of
/// gradient (zero until accumulated into).
final class TapeBuffer {
    let count: Int
    let value: UnsafeMutablePointer<Float>
    private var gradientStorage: UnsafeMutablePointer<Float>?

    init(count: Int) {
        self.count = count
        value = .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
    }

    init(copying values: [Float]) {
        count = values.count
        value = .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
        values.withUnsafeBufferPointer { value.update(from: $0.baseAddress!, count: count) }
    }

    deinit {
        value.deallocate()
        gradientStorage?.deallocate()
    }

    /// Whether any gradient has reached this buffer (a backward with none has nothing to propagate).
    var hasGradient: Bool { gradientStorage != nil }

    /// The gradient, allocated (zero) on first use.
    var gradient: UnsafeMutablePointer<Float> {
        if let gradientStorage { return gradientStorage }
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        storage.initialize(repeating: 0, count: max(count, 1))
        gradientStorage = storage
        return storage
    }

    var values: [Float] { Array(UnsafeBufferPointer(start: value, count: count)) }
}

/// A parameter an op reads: its values and, when its gradient is wanted, where to add it.
struct TapeParameter {
    let value: UnsafePointer<Float>
    let gradient: UnsafeMutablePointer<Float>?

    init(_ value: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) {
        self.value = value
        self.gradient = gradient
    }

    /// The parameter `offset` floats further on.
    func advanced(by offset: Int) -> TapeParameter {
        TapeParameter(value + offset, gradient: gradient.map { $0 + offset })
    }
}

/// The recorded backward steps of one forward.
final class GradientTape {
    private var steps: [() -> Void] = []

    /// Records `step`, run by ``backward()`` after every later step (reverse order).
    func record(_ step: @escaping () -> Void) { steps.append(step) }

    /// Runs the recorded steps in reverse and forgets them.
    func backward() {
        for step in steps.reversed() { step() }
        steps.removeAll()
    }
}
