import Foundation
import Reference
import Testing
@testable import Verifier

/// `verify eval`'s refusals name the input at fault: the one file whose content causes them.
@Suite("Refusals name the file at fault")
struct AttributedInputErrorTests {
    static let inputs = AttributedInputError.Inputs(
        artifact: "sub/final_model.ptz", code: "sub/train_gpt.py", logs: ["sub/train.log"],
        validation: "val/fineweb_val_*.bin", tokenizer: "tok/sp.model", byteSidecar: nil)

    static func message(_ error: any Error, inputs: AttributedInputError.Inputs = inputs) -> String {
        "\(AttributedInputError.attributing(error, inputs: inputs))"
    }

    @Test(arguments: [
        (EvalError.streamTooShort(tokens: 3, seqLen: 1024) as any InputError, "val/fineweb_val_*.bin: "),
        (EvalError.tokenOutOfRange(position: 7, token: 9000, vocabulary: 1024), "val/fineweb_val_*.bin: "),
        (EvalError.byteTablesTooSmall(tables: 512, vocabulary: 1024), "tok/sp.model: "),
        (EvalError.sequenceLongerThanModel(seqLen: 4096, modelPositions: 1024), "sub/train_gpt.py: "),
        (EvalError.nonFiniteLoss(position: 3, value: .nan), "sub/final_model.ptz: "),
        (EvalError.byteSidecarTooShort(entries: 3, tokens: 9), "val/fineweb_val_*.bin: "),
        (TTTError.invalidSetting(name: "TTT_LR", value: "-1"), "sub/train_gpt.py: "),
        (TTTError.evaluation(.tokenOutOfRange(position: 1, token: 5000, vocabulary: 1024)), "val/fineweb_val_*.bin: "),
        (TTTError.noDocuments, "val/fineweb_val_*.bin: "),
        (TTTError.adaptedWeightsUnusable(chunk: 2, reason: "NaN"), "sub/final_model.ptz: "),
        (PhasedTTTError.unsupported(feature: "x", reason: "y"), "sub/train_gpt.py: "),
        (ModelConfigError.missingTensor("tok_emb.weight"), "sub/final_model.ptz: "),
        (ModelConfigError.missingValue(key: "loop_start", environmentVariable: "LOOP_START", detail: "not set"), "sub/train_gpt.py: "),
        (ModelConfigError.unreadCodeFact(key: "activation", detail: "no MLP"), "sub/train_gpt.py: "),
        (ModelWeightsError.shapeMismatch(name: "a", expected: [2], actual: [3]), "sub/final_model.ptz: "),
    ])
    func aRefusalIsPrefixedWithTheInputAtFault(error: any InputError, prefix: String) {
        let text = Self.message(error)
        #expect(text.hasPrefix(prefix), "\(text)")
        #expect(text.hasSuffix(error.description))
    }

    @Test func aMessageThatNamesAGivenFileIsLeftAlone() {
        let error = ModelConfigError.unreadable(file: "sub/train.log", reason: "permission denied")
        #expect(Self.message(error) == error.description)
    }

    @Test func withoutCodeTheSettingsAreTheFirstLogsThenTheArtifact() {
        var inputs = Self.inputs
        inputs.code = nil
        let error = ModelConfigError.missingValue(key: "num_layers", environmentVariable: "NUM_LAYERS", detail: "d")
        #expect(Self.message(error, inputs: inputs).hasPrefix("sub/train.log: "))
        inputs.logs = []
        #expect(Self.message(error, inputs: inputs).hasPrefix("sub/final_model.ptz: "))
    }

    @Test func aNamedByteSidecarIsBlamedForItsOwnShortage() {
        var inputs = Self.inputs
        inputs.byteSidecar = "val/fineweb_val_bytes_*.bin"
        #expect(Self.message(EvalError.byteSidecarTooShort(entries: 3, tokens: 9), inputs: inputs)
            .hasPrefix("val/fineweb_val_bytes_*.bin: "))
    }

    @Test func valuesThatCiteTheirOriginAreLeftAloneAndShapeOnlyOnesBlameTheArtifact() {
        let override = ValueSource.override(key: "NUM_HEADS", value: "3")
        let shape = ValueSource.tensorShape(tensor: "blocks.0.attn.c_q.weight", shape: [64, 64])
        let stated = ModelConfigError.contradictsShapes(key: "num_heads", stated: "3", statedBy: override, shapeValue: "4", shapeSource: shape)
        #expect(Self.message(stated) == stated.description)
        let logged = ModelConfigError.invalidValue(key: "rope_base", value: "abc", source: .log(file: "train.log", line: 3, text: "rope_base:abc"), reason: "r")
        #expect(Self.message(logged) == logged.description)
        let fromShapes = ModelConfigError.inconsistent(key: "model_dim", reason: "not divisible by heads", sources: [shape])
        #expect(Self.message(fromShapes).hasPrefix("sub/final_model.ptz: "))
    }

    @Test func errorsThatNameTheirFlagAreLeftAlone() {
        let error = EvalError.unreadableShard("x")
        #expect(Self.message(error) == error.description)
    }
}
