import Reference

/// The output side of a streaming decoder: decodes straight into one array (no staging chunk, no
/// append copies) and never lets it pass `limit` bytes.
///
/// The array is allocated once with room for `limit` bytes. Pages never written cost no memory (an
/// allocation this large is mapped, not taken from the heap), so a small stream costs what it
/// writes; and because the array never grows, no second copy ever exists: a decompression bomb is
/// refused holding at most `limit` bytes. Once `limit` bytes are written, one more step with a
/// one-byte scratch buffer tells a stream that is finished from one that would produce more (the
/// latter is a decompression bomb: `outputLimitExceeded`).
struct BoundedOutput {
    /// What one decoder step reports.
    enum Step {
        /// The stream ended.
        case finished
        /// Call again (with more output space when the given space was filled).
        case proceed
        /// The stream is corrupt or truncated.
        case failed(ArtifactError)
    }

    /// Runs `step` until the stream finishes or fails. `step(destination, space)` decodes at most
    /// `space` bytes into `destination` and returns how many it wrote; `limitError` builds the error
    /// for output past `limit` (at the decoder's input position when it is called).
    static func decode(
        limit: Int,
        limitError: () -> ArtifactError,
        step: (UnsafeMutablePointer<UInt8>, Int) -> (produced: Int, step: Step)
    ) throws(ArtifactError) -> [UInt8] {
        let capacity = max(limit, 1)
        var written = 0
        var outcome: Result<Bool, ArtifactError> = .success(false)  // true once the stream finished
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            guard let base = buffer.baseAddress else { initialized = 0; return }
            outcome = fill(base, capacity: min(limit, buffer.count), written: &written, step: step)
            initialized = written
        }
        switch outcome {
        case .failure(let error): throw error
        case .success(true): return output
        case .success(false):
            // Full at the limit: a finished stream produces nothing more.
            var scratch: UInt8 = 0
            var probes = 0
            while true {
                let (produced, result) = step(&scratch, 1)
                if produced > 0 { throw limitError() }
                switch result {
                case .finished: return output
                case .failed(let error): throw error
                case .proceed:
                    probes += 1
                    // A decoder that neither ends nor produces has nothing more to give here.
                    if probes > 64 { throw limitError() }
                }
            }
        }
    }

    /// Output bytes per decoder call while a ``PagePopulator`` runs, so it learns the decoder's
    /// position often enough to stay ahead.
    static let populatedStep = 1 << 20

    /// Decodes into `base[written..<capacity]`; `.success(true)` when the stream finished,
    /// `.success(false)` when the space ran out first.
    private static func fill(
        _ base: UnsafeMutablePointer<UInt8>, capacity: Int, written: inout Int,
        step: (UnsafeMutablePointer<UInt8>, Int) -> (produced: Int, step: Step)
    ) -> Result<Bool, ArtifactError> {
        let populator = PagePopulator.start(base, capacity: capacity)
        defer { populator?.stop() }
        while written < capacity {
            var space = capacity - written
            if let populator {
                space = min(space, populatedStep)
                populator.advance(to: written + space)
            }
            let (produced, result) = step(base + written, space)
            written += produced
            switch result {
            case .finished: return .success(true)
            case .failed(let error): return .failure(error)
            case .proceed: continue
            }
        }
        return .success(false)
    }
}
