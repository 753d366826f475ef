import Foundation
import Testing
@testable import Verifier

/// The loss's own arguments change what is scored: `F.cross_entropy`'s class weights, an `ignore_index` a token id
/// can take, and its legacy `size_average`/`reduce` are refused; its positional arguments are read at torch's
/// positions (before, a positional `reduction` was read at the fourth place, and `ignore_index=0` or class
/// weights were dropped: each of these matched the baseline).
@Suite struct LossArgumentTests {
    static let loss = "        return F.cross_entropy(logits.float(), targets, reduction=\"mean\")\n"

    static func check(_ call: String) throws -> ArchitectureMatch {
        let source = try CodeEdit(name: "loss", edits: [(loss, "        return " + call + "\n")], expected: "", line: 0)
            .apply(to: try ConformanceSupport.baselineSource)
        return try ConformanceSupport.check(source, readsActivation: true)
    }

    @Test func lossArgumentsThatScoreOtherwiseAreRefused() throws {
        let forms: [(call: String, says: String)] = [
            ("F.cross_entropy(logits.float(), targets, reduction=\"mean\", ignore_index=0)", "ignore_index=0"),
            ("F.cross_entropy(logits.float(), targets, weight=torch.ones_like(logits[0]))", "class weights"),
            ("F.cross_entropy(logits.float(), targets, None, None, 5)", "ignore_index=5"),
            ("F.cross_entropy(logits.float(), targets, reduce=False)", "reduce"),
            // `reduction` positional, at torch's seventh place: a sum, not the baseline's mean.
            ("F.cross_entropy(logits.float(), targets, None, None, -100, None, \"sum\")", "sum"),
        ]
        for form in forms {
            let (_, detail) = try #require(try RunDependentSwitchTests.refusal { try Self.check(form.call) }, "\(form.call)")
            #expect(detail.contains(form.says), "\(form.call): \(detail)")
        }
    }

    @Test func lossArgumentsThatChangeNothingMatch() throws {
        for call in ["F.cross_entropy(logits.float(), targets, reduction=\"mean\", ignore_index=-100)",
                     "F.cross_entropy(logits.float(), targets, weight=None, ignore_index=-1)",
                     "F.cross_entropy(logits.float(), targets, None, None, -100, None, \"mean\")"] {
            #expect(try Self.check(call).architecture.contains("baseline GPT"), "\(call)")
        }
    }
}
