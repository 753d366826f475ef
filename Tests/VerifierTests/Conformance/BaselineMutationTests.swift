import Foundation
import Reference
import Testing
@testable import Verifier

/// One textual edit of the baseline's train_gpt.py.
struct CodeEdit: CustomTestStringConvertible, Sendable {
    let name: String
    let edits: [(String, String)]
    /// A fragment the refusal must contain (the construct), and the line it must name.
    let expected: String
    let line: Int

    var testDescription: String { name }

    func apply(to source: String) throws -> String {
        var text = source
        for (old, new) in edits {
            let count = text.components(separatedBy: old).count - 1
            guard count == 1 else { throw EditError(message: "\(name): '\(old)' occurs \(count) times") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    struct EditError: Error { let message: String }
}

/// Single semantic edits of the baseline's model code: each changes what the model computes, and
/// each must be refused, naming the line and the construct, with the MLP activation read from the
/// code as the pipeline reads it. The activations the reference takes as a parameter (leaky-ReLU(α)²,
/// relu^p) are evaluated instead: ``VariantGoldenTests`` asserts their PyTorch goldens.
@Suite struct BaselineMutationTests {
    static let mutations: [CodeEdit] = [
        CodeEdit(name: "GELU", edits: [("x = torch.relu(self.fc(x))", "x = F.gelu(self.fc(x))")],
                 expected: "gelu of (linear), where the reference computes relu", line: 616),
        CodeEdit(name: "leaky ReLU cubed", edits: [("x = torch.relu(self.fc(x))", "x = F.leaky_relu(self.fc(x), negative_slope=0.5)"),
                                                   ("return self.proj(x.square())", "return self.proj(x ** 3)")],
                 expected: "computes leaky_relu(negative_slope=0.5) of (linear), where the reference computes relu", line: 616),
        CodeEdit(name: "relu to a negative power", edits: [("return self.proj(x.square())", "return self.proj(x ** -1)")],
                 expected: "power -1.0", line: 617),
        CodeEdit(name: "activation halved before the square", edits: [("x = torch.relu(self.fc(x))", "x = torch.relu(self.fc(x)) * 0.5")],
                 expected: "multiplication by 0.25", line: 617),
        CodeEdit(name: "relu squared plus the pre-activation", edits: [("return self.proj(x.square())", "return self.proj(x.square() + x)")],
                 expected: "power 2.0 of (relu)", line: 617),
        CodeEdit(name: "rotary base written into the module", edits: [("self.rotary = Rotary(self.head_dim, base=rope_base)", "self.rotary = Rotary(self.head_dim, base=50000.0)")],
                 expected: "constant vector", line: 528),
        CodeEdit(name: "LayerNorm for RMSNorm", edits: [("return F.rms_norm(x, (x.size(-1),), eps=self.eps)", "return F.layer_norm(x, (x.size(-1),))")],
                 expected: "layer_norm(eps=1e-05)", line: 506),
        CodeEdit(name: "RMSNorm eps 1e-5", edits: [("self.attn_norm = RMSNorm()", "self.attn_norm = RMSNorm(eps=1e-5)")],
                 expected: "rms_norm(eps=1e-05)", line: 506),
        CodeEdit(name: "skip added after the block", edits: [(
            "                x = x + self.skip_weights[i].to(dtype=x.dtype)[None, None, :] * skips.pop()\n            x = self.blocks[self.num_encoder_layers + i](x, x0)",
            "                skip = skips.pop()\n            x = self.blocks[self.num_encoder_layers + i](x, x0)\n            if i < self.num_skip_weights:\n                x = x + self.skip_weights[i].to(dtype=x.dtype)[None, None, :] * skip")],
                 expected: "", line: 0),
        CodeEdit(name: "q gain before the q/k norm", edits: [
            ("        q = F.rms_norm(q, (q.size(-1),))\n", "        q = q * self.q_gain.to(dtype=q.dtype)[None, :, None, None]\n        q = F.rms_norm(q, (q.size(-1),))\n"),
            ("        q = q * self.q_gain.to(dtype=q.dtype)[None, :, None, None]\n        y =", "        y =")],
                 expected: "q_gain", line: 588),
        CodeEdit(name: "attention scale 1/d", edits: [("            is_causal=True,\n", "            is_causal=True,\n            scale=1.0 / self.head_dim,\n")],
                 expected: "attention(causal=True, scale=0.015625)", line: 594),
        CodeEdit(name: "attention not causal", edits: [("            is_causal=True,\n", "            is_causal=False,\n")],
                 expected: "attention(causal=False", line: 594),
        CodeEdit(name: "resid_mix roles swapped", edits: [("x = mix[0][None, None, :] * x + mix[1][None, None, :] * x0", "x = mix[1][None, None, :] * x + mix[0][None, None, :] * x0")],
                 expected: "row(index=1)", line: 641),
        CodeEdit(name: "scale on the tied head", edits: [("logits_proj = F.linear(x, self.tok_emb.weight)", "logits_proj = F.linear(x, self.tok_emb.weight) * 0.5")],
                 // The head's scale folds into the softcap's division: the difference shows there.
                 expected: "multiplication by 0.01666", line: 723),
        CodeEdit(name: "final norm removed", edits: [("x = self.final_norm(x).reshape(-1, x.size(-1))", "x = x.reshape(-1, x.size(-1))")],
                 expected: "linear of (sum of 4 terms, parameter tok_emb.weight), where the reference computes linear of (rms_norm", line: 718),
        CodeEdit(name: "softcap removed", edits: [("logits = self.logit_softcap * torch.tanh(logits_proj / self.logit_softcap)", "logits = logits_proj")],
                 expected: "cross_entropy", line: 724),
        CodeEdit(name: "softcap doubled inside tanh", edits: [("torch.tanh(logits_proj / self.logit_softcap)", "torch.tanh(logits_proj / (2 * self.logit_softcap))")],
                 expected: "multiplication by 0.01666", line: 723),
        CodeEdit(name: "no k norm", edits: [("        k = F.rms_norm(k, (k.size(-1),))\n", "")],
                 expected: "slice", line: 551),
        CodeEdit(name: "rotary sign convention flipped", edits: [("return torch.cat((x1 * cos + x2 * sin, x1 * (-sin) + x2 * cos), dim=-1)", "return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)")],
                 expected: "multiplication by -1.0", line: 552),
        CodeEdit(name: "rotary on q only", edits: [("        k = apply_rotary_emb(k, cos, sin)\n", "")],
                 expected: "attention(causal=True, scale=0.125) of (product of 2 factors, rms_norm", line: 593),
        CodeEdit(name: "mlp_scale dropped", edits: [("x = x + self.mlp_scale.to(dtype=x.dtype)[None, None, :] * self.mlp(self.mlp_norm(x))", "x = x + self.mlp(self.mlp_norm(x))")],
                 expected: "where the reference computes sum of 2 terms", line: 644),
        CodeEdit(name: "x0 taken before the embedding norm", edits: [("        x = F.rms_norm(x, (x.size(-1),))\n        x0 = x\n", "        x0 = x\n        x = F.rms_norm(x, (x.size(-1),))\n")],
                 expected: "embedding", line: 641),
        CodeEdit(name: "skips used in forward order", edits: [("* skips.pop()", "* skips.pop(0)")],
                 expected: "", line: 0),
        CodeEdit(name: "attention reads x0", edits: [("attn_out = self.attn(self.attn_norm(x))", "attn_out = self.attn(self.attn_norm(x0))")],
                 expected: "", line: 0),
        CodeEdit(name: "label smoothing", edits: [("return F.cross_entropy(logits.float(), targets, reduction=\"mean\")", "return F.cross_entropy(logits.float(), targets, reduction=\"mean\", label_smoothing=0.1)")],
                 expected: "label_smoothing", line: 724),
        CodeEdit(name: "untied head used while tied", edits: [("if self.tie_embeddings:\n            logits_proj", "if False:\n            logits_proj")],
                 expected: "lm_head", line: 0),
        CodeEdit(name: "sum reduction", edits: [("reduction=\"mean\")", "reduction=\"sum\")")],
                 expected: "cross_entropy(reduction=sum)", line: 724),
    ]

    @Test(arguments: mutations) func editIsRefusedByName(_ mutation: CodeEdit) throws {
        let source = try mutation.apply(to: try ConformanceSupport.baselineSource)
        do {
            let match = try ConformanceSupport.check(source, readsActivation: true)
            Issue.record("\(mutation.name) was matched as \(match.architecture)")
        } catch let error as ModelConfigError {
            guard case .architectureNotMatched(let file, let line, let detail, _) = error else {
                Issue.record("unexpected error \(error)"); return
            }
            #expect(file == "train_gpt.py")
            if mutation.line > 0 { #expect(line == mutation.line, "\(error)") } else { #expect(line > 0, "\(error)") }
            if !mutation.expected.isEmpty { #expect(detail.contains(mutation.expected), "\(error)") }
        }
    }
}
