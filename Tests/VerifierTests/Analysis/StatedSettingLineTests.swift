import Foundation
import Testing
@testable import Verifier

/// The one reading of a setting stated in a log or README line, shared by the text-mode gates
/// (`modeSetting`) and PG-SLOT's text gate (`TextSettings.stated`). The lines are trimmed from
/// hyperparameter dumps and run commands of the corpus.
@Suite struct StatedSettingLineTests {
    @Test func aLineStatesTheValueAfterTheNameAndASeparator() {
        #expect(SubmissionDocuments.statedValue(in: "  ngram_mode: two_pass", names: ["NGRAM_MODE"]) == "two_pass")
        #expect(SubmissionDocuments.statedValue(in: "EVAL_MODE=\"Slot\" torchrun train_gpt.py", names: ["EVAL_MODE"]) == "slot")
        #expect(SubmissionDocuments.statedValue(in: "eval_mode = 'sliding'", names: ["EVAL_MODE", "eval_mode"]) == "sliding")
        #expect(SubmissionDocuments.statedValue(in: "slot_lr: 0.008", names: ["slot_lr"]) == "0.008")
    }

    @Test func aNameInsideALongerNameOrWithoutASeparatorStatesNothing() {
        #expect(SubmissionDocuments.statedValue(in: "lbfgs_slot_enabled: False", names: ["slot_enabled"]) == nil)
        #expect(SubmissionDocuments.statedValue(in: "args.eval_mode=slot", names: ["eval_mode"]) == nil)
        #expect(SubmissionDocuments.statedValue(in: "EVAL_MODE slot", names: ["EVAL_MODE"]) == nil)
        // A later, separate occurrence still counts.
        #expect(SubmissionDocuments.statedValue(in: "lbfgs_slot_enabled: 0 slot_enabled: 1", names: ["slot_enabled"]) == "1")
    }

    @Test func theLogsStateTheFirstLineThatIsNotCodeOrAnEnvironmentRead() {
        let documents = SubmissionDocuments(logs: [
            .init(name: "a.log", text: "eval_mode = os.environ.get(\"EVAL_MODE\", \"sliding\")\n    eval_mode: sliding  \n"),
            .init(name: "b.log", text: "eval_mode: slot\n"),
        ], codeLines: ["eval_mode: sliding"])
        // a.log's first line reads the environment and its second is a line of the code: b.log decides.
        let stated = documents.statedInLogs(["EVAL_MODE", "eval_mode"])
        #expect(stated?.value == "slot")
        #expect(stated?.evidence == "b.log:1: `eval_mode: slot`")
        #expect(SubmissionDocuments(logs: [.init(name: "c.log", text: String(repeating: "x", count: 400) + " eval_mode: slot")])
            .statedInLogs(["eval_mode"]) == nil)
    }
}
