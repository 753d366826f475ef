import Foundation
import Testing
@testable import Verifier

/// In-place tensor methods in model code (``ForwardInterpreter/applyInPlace(_:receiver:receiverValue:result:at:_:)``):
/// followed on a local the function computed and holds under one name, refused wherever another name, list,
/// view, argument or parameter shares the storage. Single edits of the baseline's MLP; the semantic ones
/// (`x.mul_(2.0)`, a slice doubled in place) are in the mutation set with their PyTorch goldens.
@Suite struct InPlaceOperationTests {
    static let original = "        x = torch.relu(self.fc(x))\n        return self.proj(x.square())\n"

    static func mlp(_ body: String) throws -> String {
        try CodeEdit(name: "in-place", edits: [(original, body)], expected: "", line: 0).apply(to: try ConformanceSupport.baselineSource)
    }

    /// The baseline's relu² written with in-place methods on the hidden activation: the same function, matched.
    @Test func inPlaceSpellingsOfTheBaselineMatch() throws {
        let bodies = [
            "        x = self.fc(x)\n        x.relu_()\n        return self.proj(x.square())\n",
            "        h = self.fc(x)\n        h.relu_()\n        h.mul_(h)\n        return self.proj(h)\n",
            "        x = torch.relu(self.fc(x))\n        x.pow_(2)\n        return self.proj(x)\n",
            // The in-place call's own value is the new tensor too.
            "        h = self.fc(x)\n        y = h.relu_()\n        return self.proj(y * h)\n",
            // A library function writing into its input or into `out=`.
            "        h = self.fc(x)\n        F.relu(h, inplace=True)\n        return self.proj(h.square())\n",
            "        h = self.fc(x)\n        g = F.relu(h, inplace=True)\n        return self.proj(g * h)\n",
            "        h = self.fc(x)\n        torch.relu(h, out=h)\n        return self.proj(h.square())\n",
        ]
        for body in bodies {
            let match = try ConformanceSupport.check(try Self.mlp(body), readsActivation: true)
            #expect(match.architecture.contains("relu"), "\(body): \(match.architecture)")
        }
    }

    /// Before: an in-place statement was read and its effect dropped, so `x.mul_(2.0)` matched the baseline and
    /// would have printed the unedited number. Now the edited function is what is compared, and it is refused
    /// where it differs.
    @Test func inPlaceEditIsComparedAsWritten() throws {
        let source = try Self.mlp("        x = torch.relu(self.fc(x))\n        x.mul_(2.0)\n        return self.proj(x.square())\n")
        let (line, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) })
        #expect(line == 618 && detail.contains("multiplication by 4.0"), "\(line): \(detail)")
    }

    /// Library functions' in-place forms change what follows them: read as written, refused where the result
    /// differs (before, `inplace=True` and `out=` were dropped, and both of these matched the baseline).
    @Test func libraryWritesAreComparedAsWritten() throws {
        let forms: [(body: String, line: Int, says: String)] = [
            ("        h = torch.relu(self.fc(x))\n        torch.mul(h, 2.0, out=h)\n        return self.proj(h.square())\n",
             618, "multiplication by 4.0"),
            // relu(relu(fc) - 1) + 1: relu² of fc only where the in-place relu is dropped.
            ("        h = torch.relu(self.fc(x)) - 1.0\n        F.relu(h, inplace=True)\n        return self.proj((h + 1.0).square())\n",
             618, "constant 1.0"),
            ("        torch.relu(x, out=x)\n" + Self.original, 616, "an argument of MLP.forward"),
        ]
        for form in forms {
            let (line, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(try Self.mlp(form.body), readsActivation: true) })
            #expect(line == form.line && detail.contains(form.says), "\(form.body): \(line): \(detail)")
        }
    }

    /// On a tensor, `x += y` is torch's in-place operator: on a local the function owns it is `x = x + y`
    /// (the baseline's relu² as `h *= h` matches); on a tensor another name holds it is refused. Before,
    /// `y = x; y += 1.0` rebound only `y`, and the code matched the baseline while torch adds 1 to `x` too.
    @Test func augmentedAssignmentToATensorIsInPlace() throws {
        let owned = try Self.mlp("        h = torch.relu(self.fc(x))\n        h *= h\n        return self.proj(h)\n")
        #expect(try ConformanceSupport.check(owned, readsActivation: true).architecture.contains("relu"))
        for op in ["+=", "*="] {
            let source = try Self.mlp("        x = torch.relu(self.fc(x))\n        y = x\n        y \(op) 1.0\n        return self.proj(x.square())\n")
            let (line, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) })
            #expect(line == 618 && detail.contains("`y \(op) …` writes in place into y, whose tensor x also holds"), "\(line): \(detail)")
        }
    }

    /// The evaluation calls the model on batch after batch: a forward that keeps state on its modules and
    /// computes something else on a later call is refused (a call counter, a warm-up flag). Before, only the
    /// first call was read, and both of these matched the baseline. The baseline's rotary cache, refilled and
    /// handed back unchanged, reads the same on every call.
    @Test func forwardThatChangesAcrossCallsIsRefused() throws {
        let bodies = [
            "        self.calls = getattr(self, 'calls', 0) + 1\n        x = torch.relu(self.fc(x)) * self.calls\n"
                + "        return self.proj(x.square())\n",
            "        x = torch.relu(self.fc(x))\n        if getattr(self, 'warm', False):\n            x = x * 2.0\n"
                + "        self.warm = True\n        return self.proj(x.square())\n",
        ]
        for body in bodies {
            let (_, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(try Self.mlp(body), readsActivation: true) })
            #expect(detail.contains("GPT.forward computes another function when called again"), "\(detail)")
        }
        #expect(try ConformanceSupport.baselineSource.contains("self._cos_cached = freqs.cos()"))
        #expect(try ConformanceSupport.check(try ConformanceSupport.baselineSource).architecture.contains("baseline GPT"))
    }

    /// Storage something else can see: an alias, a list entry, a view, slice or detached copy, the function's
    /// argument, a parameter. Each refused at its line, naming what shares it.
    @Test func inPlaceOnSharedStorageIsRefused() throws {
        // `nn.init.zeros_` in a constructor is a library function, not an in-place method of a tensor: still read.
        #expect(try ConformanceSupport.baselineSource.contains("nn.init.zeros_(module.weight)"))
        let forms: [(body: String, line: String, says: String)] = [
            ("        h = torch.relu(self.fc(x))\n        g = h\n        h.mul_(2.0)\n        return self.proj(g.square())\n",
             "h.mul_(2.0)", "whose tensor g also holds"),
            ("        h = torch.relu(self.fc(x))\n        kept = [h]\n        h.mul_(2.0)\n        return self.proj(kept[0].square())\n",
             "h.mul_(2.0)", "whose tensor kept also holds"),
            // A list that holds itself (hostile code) is searched once, not forever.
            ("        h = torch.relu(self.fc(x))\n        kept = []\n        kept.append(kept)\n        kept.append(h)\n        h.mul_(2.0)\n"
                + "        return self.proj(h.square())\n", "h.mul_(2.0)", "whose tensor kept also holds"),
            ("        h = torch.relu(self.fc(x))\n        h.view(-1).mul_(2.0)\n        return self.proj(h.square())\n",
             "h.view(-1).mul_(2.0)", "the storage of h"),
            ("        h = torch.relu(self.fc(x))\n        h[..., :4].zero_()\n        return self.proj(h.square())\n",
             "h[..., :4].zero_()", "the storage of h"),
            ("        x.mul_(1.0)\n" + Self.original, "x.mul_(1.0)", "an argument of MLP.forward"),
            ("        h = torch.relu(self.fc(x))\n        h.detach().mul_(2.0)\n        return self.proj(h.square())\n",
             "h.detach().mul_(2.0)", "the storage of h"),
            ("        w = self.proj.weight\n        w.mul_(1.0)\n" + Self.original, "w.mul_(1.0)", "a parameter"),
            ("        g = self.fc(x)\n        h = g.transpose(0, 1)\n        h.relu_()\n        return self.proj(g.square())\n",
             "h.relu_()", "a view of another tensor"),
        ]
        for form in forms {
            let source = try Self.mlp(form.body)
            let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
            let (line, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) },
                                              "\(form.line)")
            #expect(line > 0 && lines[line - 1].contains(form.line), "\(form.line): line \(line): \(detail)")
            #expect(detail.contains(form.says) && detail.contains("in place"), "\(form.line): \(detail)")
        }
    }
}
