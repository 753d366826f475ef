import Foundation
import Reference

/// What a sampled evaluation will score, known before the first unit runs.
public struct SamplePlan: Sendable, Equatable {
    /// `windows` or `documents`.
    public var units: String
    /// How the evaluation's units are independent, for reports.
    public var unitDescription: String
    public var design: StratifiedSample
}

/// The outcome of `--sample-docs`: the sampled units' exact sums and the estimate from them.
public struct SampledEvaluation: Sendable, Equatable {
    public var plan: SamplePlan
    /// `partials[k]`: the exact sums of unit `plan.design.sampledUnits[k]`, bit for bit what the
    /// full evaluation adds for that unit.
    public var partials: [EvalPartial]
    public var estimate: SampledEstimate
}

extension Reevaluation {
    /// Scores the sampled units of an evaluation whose units have `lengths` scored tokens; `score`
    /// gives the exact sums of the units it is handed, in order.
    static func sampled(
        _ sample: EvaluationSample, units: String, description: String, lengths: [Int],
        onSampleDrawn: (SamplePlan) -> Void, score: ([Int]) throws -> [EvalPartial]
    ) throws -> SampledEvaluation {
        let design = try StratifiedSample(lengths: lengths, size: sample.size, seed: sample.seed, kind: units)
        let plan = SamplePlan(units: units, unitDescription: description, design: design)
        onSampleDrawn(plan)
        let partials = try score(design.sampledUnits)
        return SampledEvaluation(plan: plan, partials: partials, estimate: SampledEstimate(sample: design, partials: partials))
    }

    /// Each unit of `units` alone on `threads` workers (OpenBLAS single-threaded, as for the full
    /// evaluation), in the given order.
    static func scoreEach(
        _ units: [Int], threads: Int, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?,
        item: @Sendable (Int) throws(EvalError) -> EvalPartial
    ) throws(EvalError) -> [EvalPartial] {
        progress?(0, units.count)
        let workers = max(1, min(threads, units.count))
        let slots = UnitSlots(count: units.count)
        BLAS.threads = 1
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for slot in stride(from: worker, to: units.count, by: workers) {
                slots.set(slot, Result { () throws(EvalError) in try item(units[slot]) })
                progress?(slots.finished(), units.count)
            }
        }
        var partials: [EvalPartial] = []
        for result in slots.all() {
            guard let result else { preconditionFailure("a unit ended without a result") }
            partials.append(try result.get())
        }
        return partials
    }

    /// The result of a sampled run: `score` holds the sampled units' plain sums (not an estimate;
    /// the estimate is `sample`'s), `scored` the unit kind and count with an empty range.
    static func sampledResult(_ sampled: SampledEvaluation, resolved: ResolvedModelConfig, plan: EvalPlan, start: Date,
                              request: ReevaluationRequest, inputs: EvaluationInputDigests?,
                              family: ResolvedFamilyEvaluation? = nil, documentPlan: DocumentSegmentedPlan? = nil)
        throws -> ReevaluationResult
    {
        try NonFiniteScore.check(sampled.estimate.sampled, request: request)
        var result = ReevaluationResult(
            resolved: resolved, score: sampled.estimate.sampled, plan: plan, seconds: Date().timeIntervalSince(start), stream: [],
            familyEvaluation: family, documentPlan: documentPlan,
            scored: ScoredItems(kind: sampled.plan.units, total: sampled.plan.design.totalUnits, range: 0..<0), inputs: inputs)
        result.sample = sampled
        return result
    }
}

/// One result slot per unit, and the count of finished ones.
private final class UnitSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<EvalPartial, EvalError>?]
    private var done = 0
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<EvalPartial, EvalError>) { lock.lock(); slots[index] = result; done += 1; lock.unlock() }
    func finished() -> Int { lock.lock(); defer { lock.unlock() }; return done }
    func all() -> [Result<EvalPartial, EvalError>?] { lock.lock(); defer { lock.unlock() }; return slots }
}
