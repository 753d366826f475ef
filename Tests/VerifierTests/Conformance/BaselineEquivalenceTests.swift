import Foundation
import Reference
import Testing
@testable import Verifier

/// Rewrites of the baseline's model code that compute the same numbers: each must still be matched
/// (docs/conformance.md lists them).
@Suite struct BaselineEquivalenceTests {
    static let square = "return self.proj(x.square())"
    static let relu = "x = torch.relu(self.fc(x))"
    static let sdpa = [
        "        y = F.scaled_dot_product_attention(", "            q,", "            k,", "            v,", "            attn_mask=None,",
        "            is_causal=True,", "            enable_gqa=(self.num_kv_heads != self.num_heads),", "        )",
    ].joined(separator: "\n")

    static let rewrites: [CodeEdit] = [
        CodeEdit(name: "x * x for x.square()", edits: [(square, "return self.proj(x * x)")], expected: "", line: 0),
        CodeEdit(name: "x ** 2 for x.square()", edits: [(square, "return self.proj(x ** 2)")], expected: "", line: 0),
        CodeEdit(name: "torch.square(x)", edits: [(square, "return self.proj(torch.square(x))")], expected: "", line: 0),
        CodeEdit(name: "x.pow(2)", edits: [(square, "return self.proj(x.pow(2))")], expected: "", line: 0),
        CodeEdit(name: "F.relu", edits: [(relu, "x = F.relu(self.fc(x))")], expected: "", line: 0),
        CodeEdit(name: "x.relu()", edits: [(relu, "x = self.fc(x).relu()")], expected: "", line: 0),
        CodeEdit(name: "torch.nn.functional spelled out", edits: [(relu, "x = torch.nn.functional.relu(self.fc(x))")], expected: "", line: 0),
        CodeEdit(name: "renamed locals", edits: [(relu + "\n        return self.proj(x.square())", "hidden_activation = torch.relu(self.fc(x))\n        squared = hidden_activation.square()\n        return self.proj(squared)")], expected: "", line: 0),
        CodeEdit(name: "reordered independent statements", edits: [(
            "        q = F.rms_norm(q, (q.size(-1),))\n        k = F.rms_norm(k, (k.size(-1),))\n",
            "        k = F.rms_norm(k, (k.size(-1),))\n        q = F.rms_norm(q, (q.size(-1),))\n")], expected: "", line: 0),
        CodeEdit(name: "annotations, asserts and comments", edits: [(
            "    def forward(self, x: Tensor) -> Tensor:\n        x = torch.relu(self.fc(x))",
            "    def forward(self, x):\n        # the hidden layer\n        assert x.dim() == 3, 'batch, time, channels'\n        h: Tensor = torch.relu(self.fc(x))\n        x = h")], expected: "", line: 0),
        CodeEdit(name: "rotary terms reordered and negation moved", edits: [(
            "return torch.cat((x1 * cos + x2 * sin, x1 * (-sin) + x2 * cos), dim=-1)",
            "return torch.cat((sin * x2 + cos * x1, x2 * cos - x1 * sin), dim=-1)")], expected: "", line: 0),
        CodeEdit(name: "softcap as multiplication by the reciprocal", edits: [(
            "logits = self.logit_softcap * torch.tanh(logits_proj / self.logit_softcap)",
            "logits = torch.tanh(logits_proj * (1.0 / self.logit_softcap)) * self.logit_softcap")], expected: "", line: 0),
        CodeEdit(name: "explicit default attention scale", edits: [(
            "            is_causal=True,\n", "            is_causal=True,\n            scale=1.0 / math.sqrt(self.head_dim),\n")], expected: "", line: 0),
        CodeEdit(name: "manual causal attention with repeated KV heads", edits: [(
            sdpa,
            [
                "        if self.num_kv_heads != self.num_heads:",
                "            k = k.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1)",
                "            v = v.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1)",
                "        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))",
                "        mask = torch.triu(torch.ones(seqlen, seqlen, dtype=torch.bool, device=x.device), diagonal=1)",
                "        att = att.masked_fill(mask, float(\"-inf\"))",
                "        att = F.softmax(att, dim=-1)",
                "        y = att @ v",
            ].joined(separator: "\n"))], expected: "", line: 0),
        CodeEdit(name: "manual attention with a tril mask", edits: [(
            sdpa,
            [
                "        k = k.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1)",
                "        v = v.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1)",
                "        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)",
                "        scores = scores.masked_fill(torch.tril(torch.ones(seqlen, seqlen, device=x.device)) == 0, float(\"-inf\"))",
                "        y = torch.matmul(scores.softmax(dim=-1), v)",
            ].joined(separator: "\n"))], expected: "", line: 0),
        CodeEdit(name: "view with -1 for the head split", edits: [(
            "q = self.c_q(x).reshape(bsz, seqlen, self.num_heads, self.head_dim).transpose(1, 2)",
            "q = self.c_q(x).view(bsz, seqlen, self.num_heads, -1).transpose(1, 2)")], expected: "", line: 0),
        CodeEdit(name: "residual written as in-place add", edits: [(
            "x = x + self.mlp_scale.to(dtype=x.dtype)[None, None, :] * self.mlp(self.mlp_norm(x))",
            "x += self.mlp(self.mlp_norm(x)) * self.mlp_scale[None, None, :]")], expected: "", line: 0),
        CodeEdit(name: "dropout at evaluation", edits: [(relu, "x = F.dropout(torch.relu(self.fc(x)), p=0.1, training=self.training)")], expected: "", line: 0),
        CodeEdit(name: "subtraction for the resid_mix", edits: [(
            "x = mix[0][None, None, :] * x + mix[1][None, None, :] * x0",
            "x = x0 * mix[1] - (-mix[0]) * x")], expected: "", line: 0),
    ]

    @Test(arguments: rewrites) func rewriteIsMatched(_ rewrite: CodeEdit) throws {
        let source = try rewrite.apply(to: try ConformanceSupport.baselineSource)
        let match = try ConformanceSupport.check(source)
        #expect(match.architecture.hasPrefix("baseline GPT (FamilyGPTModel, baseline features): 9 blocks"))
    }
}
