import Foundation
import Reference
import Testing
@testable import Verifier

/// Single semantic edits of a record-family model's code (the 2026-04-14 record, configured as the
/// plain-sp1024 golden: loop, parallel lanes, XSA, partial RoPE, LN scale, gated skips, banks): each
/// changes what the model computes and must be refused, naming the line and the construct, with the
/// MLP activation read from the code as the pipeline reads it. Edits to another activation the
/// reference takes as a parameter (leaky-ReLU(0.25)², relu³) are evaluated instead and must match the
/// golden of the edited code (fixtures/families/plain-sp1024/activation-variants.json).
@Suite struct FamilyMutationTests {
    static let record = "plain-sp1024"

    static let mutations: [CodeEdit] = [
        CodeEdit(name: "GELU squared", edits: [("hidden = F.leaky_relu(F.linear(x, up_w.to(x.dtype)), negative_slope=0.5).square()",
                                                "hidden = F.gelu(F.linear(x, up_w.to(x.dtype))).square()")],
                 expected: "gelu of (linear)", line: 691),
        CodeEdit(name: "activation halved before the square",
                 edits: [("hidden = F.leaky_relu(F.linear(x, up_w.to(x.dtype)), negative_slope=0.5).square()",
                          "hidden = (F.leaky_relu(F.linear(x, up_w.to(x.dtype)), negative_slope=0.5) * 0.5).square()")],
                 expected: "", line: 691),
        CodeEdit(name: "relu³ for the square", edits: [("negative_slope=0.5).square()", "negative_slope=0.5) ** 3")],
                 expected: "power 3.0", line: 691),
        CodeEdit(name: "partial rotary sign flipped",
                 edits: [("x_rope = torch.cat((x1 * cos + x2 * sin, x1 * -sin + x2 * cos), dim=-1)",
                          "x_rope = torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)")],
                 expected: "", line: 614),
        CodeEdit(name: "rotary on half the rope dims", edits: [("block.attn.rope_dims = h.rope_dims", "block.attn.rope_dims = h.rope_dims // 2")],
                 expected: "", line: 0),
        CodeEdit(name: "layer-norm scale 1/sqrt(layer + 2)", edits: [("self.ln_scale_factor = 1.0 / math.sqrt(layer_idx + 1)", "self.ln_scale_factor = 1.0 / math.sqrt(layer_idx + 2)")],
                 expected: "multiplication by", line: 0),
        CodeEdit(name: "gated skip lerp arguments swapped",
                 edits: [("g = torch.sigmoid(self.skip_gates[skip_idx].to(dtype=x.dtype))[None, None, :]\n                        x = torch.lerp(scaled_skip, x, g)\n                    else:\n                        x = x + scaled_skip\n                x = self.blocks[i](x, x0, q_w, k_w, v_w, out_w, up_w, down_w, cu_seqlens=cu_seqlens, max_seqlen=max_seqlen)",
                          "g = torch.sigmoid(self.skip_gates[skip_idx].to(dtype=x.dtype))[None, None, :]\n                        x = torch.lerp(x, scaled_skip, g)\n                    else:\n                        x = x + scaled_skip\n                x = self.blocks[i](x, x0, q_w, k_w, v_w, out_w, up_w, down_w, cu_seqlens=cu_seqlens, max_seqlen=max_seqlen)")],
                 expected: "", line: 0),
        CodeEdit(name: "XSA projection halved", edits: [("proj = (y_g * vn).sum(dim=-1, keepdim=True) * vn", "proj = (y_g * vn).sum(dim=-1, keepdim=True) * vn * 0.5")],
                 expected: "", line: 0),
        CodeEdit(name: "q_gain on the keys",
                 edits: [("        q = q * self.q_gain.to(dtype=q.dtype)[None, None, :, None]\n        if cu_seqlens is not None:",
                          "        k = k * self.q_gain.to(dtype=k.dtype)[None, None, :, None]\n        if cu_seqlens is not None:")],
                 expected: "q_gain", line: 0),
        CodeEdit(name: "final lanes summed, not averaged", edits: [("return 0.5 * (lane0 + lane1)", "return lane0 + lane1")],
                 expected: "", line: 0),
        CodeEdit(name: "MLP lane's post lambda swapped",
                 edits: [("        lane0 = attn_resid * lane0 + attn_post[0] * attn_out + mlp_post[0] * mlp_out\n        lane1 = mlp_resid * lane1 + attn_post[1] * attn_out + mlp_post[1] * mlp_out\n        return lane0, lane1\n\n    def _final_parallel_hidden",
                          "        lane0 = attn_resid * lane0 + attn_post[0] * attn_out + mlp_post[1] * mlp_out\n        lane1 = mlp_resid * lane1 + attn_post[1] * attn_out + mlp_post[1] * mlp_out\n        return lane0, lane1\n\n    def _final_parallel_hidden")],
                 expected: "", line: 0),
        CodeEdit(name: "MLP norm removed", edits: [("] * self.mlp(self.mlp_norm(x_out) * self.ln_scale_factor, up_w, down_w)", "] * self.mlp(x_out * self.ln_scale_factor, up_w, down_w)")],
                 expected: "", line: 0),
        CodeEdit(name: "non-causal attention",
                 edits: [("            y = flash_attn_3_func(q, k, v, causal=True)\n        if self.use_xsa:\n            y = self._xsa_efficient(y, v)\n        y = y.reshape(bsz, seqlen, dim)",
                          "            y = flash_attn_3_func(q, k, v, causal=False)\n        if self.use_xsa:\n            y = self._xsa_efficient(y, v)\n        y = y.reshape(bsz, seqlen, dim)")],
                 expected: "attention(causal=False", line: 675),
        CodeEdit(name: "softcap doubled", edits: [("return self.logit_softcap * torch.tanh(logits_proj / self.logit_softcap)", "return 2 * self.logit_softcap * torch.tanh(logits_proj / self.logit_softcap)")],
                 expected: "", line: 965),
        CodeEdit(name: "one loop fewer", edits: [("for _ in range(h.num_loops + 1):", "for _ in range(h.num_loops):")],
                 expected: "", line: 0),
        CodeEdit(name: "x and x0 swapped in the residual mix",
                 edits: [("        mix = self.resid_mix.to(dtype=x.dtype)\n        x_in = mix[0][None, None, :] * x + mix[1][None, None, :] * x0",
                          "        mix = self.resid_mix.to(dtype=x.dtype)\n        x_in = mix[0][None, None, :] * x0 + mix[1][None, None, :] * x")],
                 expected: "", line: 0),
        CodeEdit(name: "keys and values swapped in the bank",
                 edits: [("            self.kv_bank[i],\n            self.kv_bank[n + i],", "            self.kv_bank[n + i],\n            self.kv_bank[i],")],
                 expected: "", line: 0),
        CodeEdit(name: "embedding norm removed",
                 edits: [("    def forward_logits(self, input_ids, cu_seqlens=None, max_seqlen=0):\n        x = self.tok_emb(input_ids)\n        x = F.rms_norm(x, (x.size(-1),))",
                          "    def forward_logits(self, input_ids, cu_seqlens=None, max_seqlen=0):\n        x = self.tok_emb(input_ids)")],
                 expected: "", line: 0),
    ]

    @Test(arguments: mutations) func editIsRefusedByName(_ mutation: CodeEdit) throws {
        let r = try FamilyConformanceTests.resolved(Self.record)
        let source = try mutation.apply(to: try String(contentsOf: r.code, encoding: .utf8))
        do {
            let match = try ArchitectureConformance.checkFamily(source: source, file: "train_gpt.py", config: r.config,
                                                                parameterShapes: r.shapes, settings: r.settings,
                                                                readsActivation: true)
            Issue.record("\(mutation.name) was matched as \(match.architecture)")
        } catch {
            guard case .architectureNotMatched(let file, let line, let detail, _) = error else {
                Issue.record("unexpected error \(error)"); return
            }
            #expect(file == "train_gpt.py")
            if mutation.line > 0 { #expect(line == mutation.line, "\(error)") } else { #expect(line > 0, "\(error)") }
            if !mutation.expected.isEmpty { #expect(detail.contains(mutation.expected), "\(error)") }
        }
    }

    /// Rewrites that compute the same numbers: still matched.
    static let rewrites: [CodeEdit] = [
        CodeEdit(name: "lerp written out", edits: [(
            "g = torch.sigmoid(self.skip_gates[skip_idx].to(dtype=x.dtype))[None, None, :]\n                        x = torch.lerp(scaled_skip, x, g)\n                    else:\n                        x = x + scaled_skip\n                x = self.blocks[i](x, x0, q_w, k_w, v_w, out_w, up_w, down_w, cu_seqlens=cu_seqlens, max_seqlen=max_seqlen)",
            "g = torch.sigmoid(self.skip_gates[skip_idx].to(dtype=x.dtype))[None, None, :]\n                        x = scaled_skip + g * (x - scaled_skip)\n                    else:\n                        x = x + scaled_skip\n                x = self.blocks[i](x, x0, q_w, k_w, v_w, out_w, up_w, down_w, cu_seqlens=cu_seqlens, max_seqlen=max_seqlen)")],
                 expected: "", line: 0),
        CodeEdit(name: "leaky ReLU squared as a product", edits: [(
            "hidden = F.leaky_relu(F.linear(x, up_w.to(x.dtype)), negative_slope=0.5).square()",
            "pre = F.leaky_relu(F.linear(x, up_w.to(x.dtype)), 0.5)\n        hidden = pre * pre")], expected: "", line: 0),
        CodeEdit(name: "final lanes averaged as a sum over two", edits: [("return 0.5 * (lane0 + lane1)", "return (lane1 + lane0) / 2")],
                 expected: "", line: 0),
        CodeEdit(name: "FlashAttention's default scale written out",
                 edits: [("            y = flash_attn_3_func(q, k, v, causal=True)\n        if self.use_xsa:\n            y = self._xsa_efficient(y, v)\n        y = y.reshape(bsz, seqlen, dim)",
                          "            y = flash_attn_3_func(q, k, v, causal=True, softmax_scale=self.head_dim ** -0.5)\n        if self.use_xsa:\n            y = self._xsa_efficient(y, v)\n        y = y.reshape(bsz, seqlen, dim)")],
                 expected: "", line: 0),
        CodeEdit(name: "attention in [B, H, T, D] through SDPA",
                 edits: [("            y = flash_attn_3_func(q, k, v, causal=True)\n        if self.use_xsa:\n            y = self._xsa_efficient(y, v)\n        y = y.reshape(bsz, seqlen, dim)",
                          "            y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True, enable_gqa=True).transpose(1, 2)\n        if self.use_xsa:\n            y = self._xsa_efficient(y, v)\n        y = y.reshape(bsz, seqlen, dim)")],
                 expected: "", line: 0),
    ]

    @Test(arguments: rewrites) func rewriteIsMatched(_ rewrite: CodeEdit) throws {
        let r = try FamilyConformanceTests.resolved(Self.record)
        let source = try rewrite.apply(to: try String(contentsOf: r.code, encoding: .utf8))
        let match = try ArchitectureConformance.checkFamily(source: source, file: "train_gpt.py", config: r.config,
                                                            parameterShapes: r.shapes, settings: r.settings)
        #expect(match.architecture.hasPrefix("record-family GPT (FamilyGPTModel)"))
    }

    struct ActivationVariant: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var activation: String
        var edits: [[String]]
        var val_loss: Double
        var val_bpb: Double
        var testDescription: String { name }
    }
    struct ActivationVariants: Decodable {
        struct Score: Decodable { var val_bpb: Double }
        var unedited: Score
        var variants: [ActivationVariant]
    }

    static func activationVariants() throws -> ActivationVariants {
        try JSONDecoder().decode(ActivationVariants.self,
                                 from: Data(contentsOf: Paths.fixture("families/\(record)/activation-variants.json")))
    }

    /// The record's code edited to another MLP activation, through `verify eval`'s pipeline on the
    /// family's weights: the edited code's own eval_val, never the unedited number.
    @Test(arguments: (try? activationVariants().variants) ?? [])
    func activationEditIsEvaluatedExactly(_ variant: ActivationVariant) throws {
        let variants = try Self.activationVariants()
        #expect(abs(variant.val_bpb - variants.unedited.val_bpb) > 4e-4, "the edit must move the score past the tolerance")
        let golden = try FamilyReevaluationTests.golden(Self.record)
        let edit = CodeEdit(name: variant.name, edits: variant.edits.map { ($0[0], $0[1]) }, expected: "", line: 0)
        let source = try edit.apply(to: try String(contentsOf: FamilyReevaluationTests.code(golden), encoding: .utf8))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-family-variant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = folder.appendingPathComponent("train_gpt.py")
        try source.write(to: code, atomically: true, encoding: .utf8)
        let result = try Reevaluation.run(FamilyReevaluationTests.request(Self.record, golden: golden, code: .some(code)))
        #expect(result.resolved.config.features.mlpActivation.formula == variant.activation)
        #expect(result.resolved.architecture?.contains(variant.activation + " MLP") == true)
        #expect(abs(result.score.meanLoss - variant.val_loss) <= 1e-4, "\(result.score.meanLoss)")
        #expect(abs(result.score.bitsPerByte - variant.val_bpb) <= 1e-4, "\(result.score.bitsPerByte)")
    }
}
