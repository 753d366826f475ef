import Foundation

// A small reverse-mode tape for the differentiable record-family model: every op computes its output
// into a `TapeBuffer` and records a closure that, run in reverse order, adds the gradients of its
// inputs (activations and parameters) from its output's gradient. Float32, flat row-major buffers.
// A tape's buffers come from its ``TapeBufferPool`` and go back to it when the tape is done, so the
// steps of a TTT loop (the same shapes every time) allocate no fresh memory after the first.

final class TapeBuffer {
    let count: Int
    let value: UnsafeMutablePointer<Float>
    private var gradientStorage: UnsafeMutablePointer<Float>?
    private let pool: TapeBufferPool?

    /// `count` zeros, from `pool` when given (and returned to it on release).
    init(count: Int, pool: TapeBufferPool? = nil) {
        self.count = count
        self.pool = pool
        value = pool?.take(count) ?? .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
    }

    init(copying values: [Float]) {
        count = values.count
        pool = nil
        value = .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
        values.withUnsafeBufferPointer { value.update(from: $0.baseAddress!, count: count) }
    }

    deinit {
        if let pool {
            pool.give(value, count: count)
            if let gradientStorage { pool.give(gradientStorage, count: count) }
        } else {
            value.deallocate()
            gradientStorage?.deallocate()
        }
    }

    /// Whether any gradient has reached this buffer (a backward with none has nothing to propagate).
    var hasGradient: Bool { gradientStorage != nil }

    /// The gradient, allocated (zero) on first use.
    var gradient: UnsafeMutablePointer<Float> {
        if let gradientStorage { return gradientStorage }
        let storage = pool?.take(count) ?? UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
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

/// Memory of released ``TapeBuffer``s for the next ones, in power-of-two size classes (a request takes
/// a block of its class, so a pooled block is at most twice its use and the pool at most twice the
/// largest tape's peak). One thread at a time: a tape and its buffers live on one thread.
final class TapeBufferPool {
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]

    private static func sizeClass(_ count: Int) -> Int { max(count, 1).nextPowerOfTwo }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let size = Self.sizeClass(count)
        if let block = free[size]?.popLast() { return block }
        return .allocate(capacity: size)
    }

    func give(_ block: UnsafeMutablePointer<Float>, count: Int) {
        free[Self.sizeClass(count), default: []].append(block)
    }

    deinit {
        for blocks in free.values { for block in blocks { block.deallocate() } }
    }
}

private extension Int {
    var nextPowerOfTwo: Int { self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount) }
}

/// The recorded backward steps of one forward.
final class GradientTape {
    private var steps: [() -> Void] = []
    /// Threads its ops may split work over (fixed tiles, so every number is the same for any count).
    let threads: Int
    /// Where its buffers come from (`nil`: plain allocations).
    let pool: TapeBufferPool?

    init(threads: Int = 1, pool: TapeBufferPool? = nil) {
        self.threads = max(1, threads)
        self.pool = pool
    }

    /// A zeroed buffer of `count` floats from the tape's pool.
    func buffer(count: Int) -> TapeBuffer { TapeBuffer(count: count, pool: pool) }

    /// Records `step`, run by ``backward()`` after every later step (reverse order).
    func record(_ step: @escaping () -> Void) { steps.append(step) }

    /// Runs the recorded steps in reverse and forgets them.
    func backward() {
        for step in steps.reversed() { step() }
        steps.removeAll()
    }
}

/// Features per tile of the tape's matrix products (see ``GradientTape/linear(_:weight:inFeatures:outFeatures:)``).
let linearTileFeatures = 256

/// `0..<features` in tiles of ``linearTileFeatures``.
func tiles(_ features: Int) -> [Range<Int>] {
    stride(from: 0, to: features, by: linearTileFeatures).map { $0..<min($0 + linearTileFeatures, features) }
}

/// `body(item, worker)` for the items `0..<count`, claimed in order by `parallelWorkers(count, threads)`
/// workers (`0..<workers`; on the caller alone when one suffices). Items must write disjoint memory.
func parallelFor(_ count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
    let workers = parallelWorkers(count, threads: threads)
    guard workers > 1 else {
        for index in 0..<count { body(index, 0) }
        return
    }
    let next = NextIndex()
    withoutActuallyEscaping(body) { escaping in
        // The items' memory is disjoint (the caller's promise), which the compiler cannot see.
        let work = UncheckedSendable(escaping)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while let index = next.claim(below: count) { work.value(index, worker) }
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The workers ``parallelFor(_:threads:_:)`` uses for `count` items.
func parallelWorkers(_ count: Int, threads: Int) -> Int { max(1, min(threads, count)) }
