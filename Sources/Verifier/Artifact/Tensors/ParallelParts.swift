import Dispatch
import Foundation

/// Splits element-wise work over a few cores. Every part writes its own disjoint range, so the
/// result does not depend on how the work is split or scheduled.
enum ParallelParts {
    /// At most this many parts (the verifier runs on small shared machines).
    static let maximumParts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4))

    /// Calls `body` once per part of `0..<count`, in parallel when each part gets at least
    /// `minimumPerPart` items.
    static func forEach(_ count: Int, minimumPerPart: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(maximumParts, count / max(1, minimumPerPart))
        guard parts > 1 else {
            body(0..<count)
            return
        }
        // The parts write disjoint ranges and `concurrentPerform` returns only when all are done,
        // so sharing `body` (and the buffers it writes) across the worker threads is safe.
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(run: body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                shared.run((part * count / parts)..<((part + 1) * count / parts))
            }
        }
    }

    /// Calls `body(index)` for every index in `0..<count`, spread over the cores (each index once;
    /// free workers take the next index, so uneven items still balance).
    static func forEachIndex(_ count: Int, _ body: (Int) -> Void) {
        guard maximumParts > 1, count > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = SharedIndexBody(run: body)
            DispatchQueue.concurrentPerform(iterations: count) { shared.run($0) }
        }
    }

    private struct SharedIndexBody: @unchecked Sendable {
        let run: (Int) -> Void
    }

    private struct SharedBody: @unchecked Sendable {
        let run: (Range<Int>) -> Void
    }
}
