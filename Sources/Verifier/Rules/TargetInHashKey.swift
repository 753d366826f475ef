import Foundation

/// PG-TARGET-IN-HASH — the token being predicted is mixed into a hash or lookup key at
/// evaluation time.
///
/// ## What it flags
/// An XOR, `torch.bitwise_xor`/`np.bitwise_xor` or `hash()` whose operands include a value
/// derived from the target token (`y`, `targets`, `tgt`...) and that works on validation data:
/// a hashed n-gram/cache key such as `full_key = (ctx_hash ^ (tgt * prime)) & mask`. A key
/// that is only written with (`table += np.bincount(key)`, `np.add.at(table, key, 1)`,
/// `table[key] += 1`: the table update after scoring) is not read into a probability and is not
/// flagged, also through names assigned from it (`full_key = (full_hash & mask)`) and through the
/// module's own helper that only adds counts with its argument (`self._bincount_add(table, key)`),
/// and through a helper that returns the key (`return h % buckets`) to callers that only write
/// with it (`full_h = window_hashes(...)`; a slice of the key is the key, its size no read), and
/// through a fixed lookup array indexed by the key (`fk = remap[fk]` where every use of `remap` in
/// the module is a plain assignment, a test against `None` or an index read: nothing writes counts
/// into it) or through the module's own function whose whole body returns arithmetic on its
/// argument (`ck = self._bk(h)` with `return h & self.mask`); the read of the same table is. In a script, a key in a function or method that nothing in the file or its
/// folder calls or names (a cache class's `lookup` when every `.lookup(` call goes to another
/// class) does not run: a note.
///
/// ## Why
/// The probability of token t may depend only on the artifact and the tokens before t (Issue
/// #1017, condition C1). A count table keyed by (context, target) is only ever read for the
/// correct token, so collisions push P(correct) towards 1 without a normalised distribution.
///
/// ## Source
/// @valerio-oai's ruling on PR #779 (comment 4145781641): n-gram caches whose key includes the
/// target are disallowed; Issue #1017 C1.
///
/// ## Legal example
/// BigramHash embeddings hash the previous and the current *input* token
/// (`(prev * 36313) ^ (cur * 27191)`): both are context for predicting the next token.
///
/// ## Illegal example
/// `key = (ctx_hash ^ (val_np[i + 1] * 1000003)) % buckets` where `tgt = val_np[i + 1]` is the
/// token being scored.
public enum TargetInHashKey: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-TARGET-IN-HASH", name: "target-in-hash-key", severity: .error,
        summary: "The target token is mixed into a hash/lookup key computed on validation data.",
        source: "PR #779 ruling (@valerio-oai, comment 4145781641); Issue #1017 C1")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let analysis = source.analysis
        var findings: [Finding] = []
        let writers = countWriters(in: analysis.index)
        let lookups = FixedLookupArrays.names(in: analysis.index.functions[0].node)
        let transforms = keyTransforms(in: analysis.index)
        for function in analysis.index.functions.indices {
            for event in analysis.events[function] where event.kind == .hashMix && event.via == nil {
                let operands = event.operands.map { analysis.effective($0, in: function) }
                let all = analysis.effective(event.labels, in: function)
                let node = analysis.index.functions[function].node
                guard operands.contains(where: { $0.contains(.target) }), all.contains(.validation),
                      !onlyWritesTables(keyedAt: event.line, in: node, writers: writers, lookups: lookups, transforms: transforms),
                      !(onlyWritesTables(keyedAt: event.line, in: node, writers: writers, lookups: lookups, transforms: transforms,
                                         returnIsWrite: true)
                        && callersOnlyWrite(function, in: analysis.index, writers: writers, lookups: lookups,
                                            transforms: transforms)) else { continue }
                let name = analysis.index.functions[function].qualifiedName
                if let unused = neverUsed(function, in: source) {
                    findings.append(finding(source, line: event.line,
                        "\(name): the target token is mixed (\(event.detail)) into a key computed on validation data; " +
                        "\(unused) is never called or named elsewhere in this file or its folder, so it does not run",
                        severity: .note))
                    continue
                }
                let gate = source.featureGate(analysis.disablingVariable(for: event, in: function))
                findings.append(finding(source, line: event.line,
                    "\(name): the target token is mixed (\(event.detail)) into a key computed on validation data; " +
                    "a lookup keyed by the token being predicted leaks it into its own probability" + gate.note,
                    severity: gate.severity(descriptor.severity)))
            }
        }
        return findings
    }

    /// The qualified name of `function` or of a function enclosing it when, in a script, nothing
    /// uses it: no name, attribute or string in the module mentions it outside its own body except
    /// method calls that resolve to another class's method of the same name (`phrase_cache.lookup(...)`
    /// with `phrase_cache` always a `PhraseCache`, where `NgramCache` also defines `lookup`), and
    /// no other source file of the folder names it. Methods Python calls implicitly (`__call__`,
    /// `forward`) are always used.
    static func neverUsed(_ function: Int, in source: AnalyzedSource) -> String? {
        let index = source.analysis.index
        guard ValidationUpdate.hasEntryPoint(source.tree) else { return nil }
        var current: Int? = function
        while let candidate = current, candidate != 0 {
            let definition = index.functions[candidate]
            if !definition.name.hasPrefix("__"), definition.name != "forward",
               !isMentioned(candidate, in: source),
               !FolderNameSearch.isNamed(definition.name, inFolder: (source.file as NSString).deletingLastPathComponent,
                                         except: (source.file, definition.node.line), otherFilesOnly: true) {
                return definition.qualifiedName
            }
            current = definition.enclosingFunction
        }
        return nil
    }

    /// Whether anything in the module outside `function`'s body mentions it (see `neverUsed`).
    private static func isMentioned(_ function: Int, in source: AnalyzedSource) -> Bool {
        let index = source.analysis.index
        let definition = index.functions[function]
        let name = definition.name
        // The class each call is made from, for `self.m(...)`.
        var callerClass: [ObjectIdentifier: String] = [:]
        for method in index.functions where method.className != nil {
            method.node.walk { node in
                if node.type == "Call", let callee = node.child("func") { callerClass[ObjectIdentifier(callee)] = method.className }
            }
        }
        var calleesElsewhere: Set<ObjectIdentifier> = []
        source.tree.walk { node in
            guard node.type == "Call", let callee = node.child("func"), callee.type == "Attribute",
                  callee.string("attr") == name,
                  let resolved = index.resolve(callee: callee, enclosingClass: callerClass[ObjectIdentifier(callee)]),
                  resolved != function else { return }
            calleesElsewhere.insert(ObjectIdentifier(callee))
        }
        var mentioned = false
        source.tree.walk { node in
            guard !mentioned, node.line < definition.node.line || node.line > definition.node.endLine else { return }
            switch node.type {
            case "Name": mentioned = node.string("id") == name
            case "Attribute": mentioned = node.string("attr") == name && !calleesElsewhere.contains(ObjectIdentifier(node))
            case "Constant": mentioned = node.stringLiteral == name
            default: break
            }
        }
        return mentioned
    }

    /// Attributes that give an array's size or type, not its values.
    private static let sizeAttributes: Set<String> = ["shape", "size", "numel", "ndim", "dtype", "device", "nelement"]

    /// Calls that add counts into a table at the given keys.
    private static let tableWrites: Set<String> = ["bincount", "at", "index_add_", "scatter_add_", "index_put_", "put"]

    /// The module's own functions whose whole body returns arithmetic on their parameters
    /// (`def _bk(self, h): return h & self.mask`): a key passed to one comes back as a key.
    static func keyTransforms(in index: ModuleIndex) -> Set<String> {
        let opaque: Set<String> = ["Call", "Subscript", "Lambda", "ListComp", "DictComp", "SetComp", "GeneratorExp",
                                   "IfExp", "Await", "Yield", "YieldFrom", "NamedExpr", "Dict", "List", "Tuple", "Set"]
        var transforms: Set<String> = []
        for function in index.functions.dropFirst() {
            let body = function.node.children("body").filter { !($0.type == "Expr" && $0.child("value")?.stringLiteral != nil) }
            guard body.count == 1, body[0].type == "Return", let value = body[0].child("value") else { continue }
            let parameters = Set(function.parameters.filter { $0 != "self" && $0 != "cls" })
            var arithmetic = true
            var usesParameter = false
            value.walk { node in
                if opaque.contains(node.type) { arithmetic = false }
                if node.type == "Name", let id = node.string("id"), parameters.contains(id) { usesParameter = true }
            }
            if arithmetic, usesParameter { transforms.insert(function.name) }
        }
        return transforms
    }

    /// The module's own functions that only add counts with a parameter
    /// (`def _bincount_add(self, table, keys): table += np.bincount(keys, ...)`): every use of
    /// that parameter is inside the arguments of a table write. A key passed to one is written.
    static func countWriters(in index: ModuleIndex) -> Set<String> {
        var writers: Set<String> = []
        for function in index.functions.dropFirst() {
            let parameters = function.parameters.filter { $0 != "self" && $0 != "cls" }
            for parameter in parameters {
                var uses = 0
                var written = 0
                function.node.walk { node in
                    if node.type == "Name", node.string("id") == parameter { uses += 1 }
                    guard node.type == "Call", tableWrites.contains(node.terminalName ?? "") else { return }
                    for argument in node.children("args") {
                        argument.walk { if $0.type == "Name", $0.string("id") == parameter { written += 1 } }
                    }
                }
                if uses > 0, uses == written { writers.insert(function.name); break }
            }
        }
        return writers
    }

    /// Whether every use of `function` in the module is a call whose result is bound to a name
    /// (`full_h = _hashes(tokens, order)`) that the caller uses only to write counts (see
    /// `onlyWritesTables`): a key the function returns is then written, never read. A function
    /// named anywhere else (passed as a value, or called in another form) is not.
    static func callersOnlyWrite(_ function: Int, in index: ModuleIndex, writers: Set<String>,
                                 lookups: Set<String> = [], transforms: Set<String> = []) -> Bool {
        let definition = index.functions[function]
        guard function != 0 else { return false }
        let name = definition.name
        var calls: [(line: Int, caller: PyNode)] = []
        var mentions = 0
        var callees: Set<ObjectIdentifier> = []
        index.functions[0].node.walk { node in
            guard node.type == "Assign", let value = node.child("value"), value.type == "Call",
                  let callee = value.child("func"), callee.terminalName == name,
                  callee.type == "Name" || callee.type == "Attribute" else { return }
            let targets = node.children("targets")
            guard targets.count == 1, targets[0].type == "Name" else { return }
            callees.insert(ObjectIdentifier(callee))
            // The innermost function holding the call.
            let holder = index.functions.indices.dropFirst()
                .filter { index.functions[$0].node.line <= node.line && index.functions[$0].node.endLine >= node.endLine }
                .max { index.functions[$0].node.line < index.functions[$1].node.line }
            calls.append((node.line, holder.map { index.functions[$0].node } ?? index.functions[0].node))
        }
        index.functions[0].node.walk { node in
            guard node.line < definition.node.line || node.line > definition.node.endLine else { return }
            switch node.type {
            case "Name": if node.string("id") == name, !callees.contains(ObjectIdentifier(node)) { mentions += 1 }
            case "Attribute": if node.string("attr") == name, !callees.contains(ObjectIdentifier(node)) { mentions += 1 }
            case "Constant": if node.stringLiteral == name { mentions += 1 }
            default: break
            }
        }
        return !calls.isEmpty && mentions == 0
            && calls.allSatisfy {
                onlyWritesTables(keyedAt: $0.line, in: $0.caller, writers: writers, lookups: lookups, transforms: transforms)
            }
    }

    /// Whether the key assigned at `line` (`full_key = ...`) is used only to write counts: in
    /// `np.bincount`/`np.add.at`-style calls or as the subscript of an assignment target. Only the uses
    /// the assignment reaches count (up to the next assignment of the name: a read of an earlier
    /// `full_key` in the same function is that key's). A name assigned from the key by arithmetic and
    /// conversions only (`full_key = (full_hash & mask).astype(...)`, `bucket = h % n`) is the key under
    /// another name: its uses are the key's; so is a slice of it (`ctx_h = ctx_h[:n]`). With
    /// `returnIsWrite`, returning the key by such arithmetic (`return h % buckets`) counts as a write
    /// (the caller checks that every caller only writes with what it gets: `callersOnlyWrite`).
    /// A fixed lookup array (`FixedLookupArrays`, one of `lookups`) indexed by the key
    /// (`fk = remap[fk]`) gives the key transformed, under the name it is bound to; so does a call
    /// of one of `transforms` (`keyTransforms`: `ck = self._bk(h)`).
    static func onlyWritesTables(keyedAt line: Int, in function: PyNode, writers: Set<String> = [],
                                 lookups: Set<String> = [], transforms: Set<String> = [],
                                 returnIsWrite: Bool = false) -> Bool {
        var bindings: [(line: Int, name: String)] = []
        function.walk { node in
            guard node.type == "Assign" else { return }
            for target in node.children("targets") where target.type == "Name" {
                if let id = target.string("id") { bindings.append((node.line, id)) }
            }
        }
        func reach(of name: String, from start: Int) -> Range<Int> {
            start..<(bindings.filter { $0.name == name && $0.line > start }.map(\.line).min() ?? Int.max)
        }
        var keys: [String: Range<Int>] = [:]
        var renamings: [PyNode] = []
        function.walk { node in
            guard node.type == "Assign", node.line == line else { return }
            renamings.append(node)
            for target in node.children("targets") where target.type == "Name" {
                if let id = target.string("id") { keys[id] = reach(of: id, from: line) }
            }
        }
        guard !keys.isEmpty else { return false }
        func reaches(_ inner: PyNode) -> Bool {
            guard inner.type == "Name", let id = inner.string("id"), let range = keys[id] else { return false }
            return range.contains(inner.line)
        }
        // Whether `node` uses a key only through arithmetic and conversions (never as a call's argument or in a subscript).
        func renames(_ node: PyNode) -> Bool {
            var usesKey = false
            var other = false
            func visit(_ node: PyNode, passedOn: Bool) {
                if reaches(node) { if passedOn { other = true } else { usesKey = true } }
                switch node.type {
                case "Call":
                    node.child("func").map { visit($0, passedOn: passedOn) }
                    // The module's own arithmetic on its argument (`ck = self._bk(h)`) gives the key back.
                    let transformed = transforms.contains(node.terminalName ?? "")
                    for argument in node.children("args") + node.children("keywords") {
                        visit(argument, passedOn: transformed ? passedOn : true)
                    }
                case "Subscript":
                    // A slice of the key (`key[:n]`) is keys; the key as an index (`table[key]`) is a read.
                    if let base = node.child("value"), reaches(base), let slice = node.child("slice") {
                        visit(base, passedOn: passedOn)
                        visit(slice, passedOn: true)
                    } else if let base = node.child("value"), base.type == "Name", lookups.contains(base.string("id") ?? ""),
                              let slice = node.child("slice") {
                        // A fixed lookup indexed by the key maps it to another key: no count is read.
                        visit(slice, passedOn: passedOn)
                    } else {
                        for child in node.childNodes { visit(child, passedOn: true) }
                    }
                default:
                    for child in node.childNodes { visit(child, passedOn: passedOn) }
                }
            }
            visit(node, passedOn: false)
            return usesKey && !other
        }
        var grew = true
        while grew {
            grew = false
            function.walk { node in
                guard node.type == "Assign", !renamings.contains(where: { $0 === node }), let value = node.child("value") else { return }
                let targets = node.children("targets")
                guard !targets.isEmpty, targets.allSatisfy({ $0.type == "Name" }) else { return }
                let names = targets.compactMap { $0.string("id") }
                // A new name, or the key's own name bound again from it where its reach ends (`ctx_h = ctx_h[:n]`).
                guard names.allSatisfy({ keys[$0] == nil || keys[$0]?.upperBound == node.line }) else { return }
                let before = keys
                for name in names where keys[name] != nil { keys[name] = keys[name]!.lowerBound..<(node.line + 1) }
                guard renames(value) else { keys = before; return }
                for name in names {
                    let start = before[name]?.lowerBound ?? node.line
                    keys[name] = start..<reach(of: name, from: node.line).upperBound
                }
                renamings.append(node)
                grew = true
            }
        }
        // Not uses: the names inside renamings, and a plain name a value is bound to (`h = np.full(...)`).
        var renamingNames: Set<ObjectIdentifier> = []
        for node in renamings { node.walk { if $0.type == "Name" { renamingNames.insert(ObjectIdentifier($0)) } } }
        function.walk { node in
            guard node.type == "Assign" else { return }
            for target in node.children("targets") where target.type == "Name" { renamingNames.insert(ObjectIdentifier(target)) }
        }
        // Nor the key's size (`n = key.shape[0]`, `len(key)`): no table is read with it.
        function.walk { node in
            if node.type == "Attribute", let attribute = node.string("attr"), sizeAttributes.contains(attribute),
               let base = node.child("value"), base.type == "Name" {
                renamingNames.insert(ObjectIdentifier(base))
            }
            if node.type == "Call", node.child("func")?.dottedName == "len", let argument = node.children("args").first,
               argument.type == "Name" {
                renamingNames.insert(ObjectIdentifier(argument))
            }
        }
        var uses = 0
        var writes = 0
        func count(_ node: PyNode, into total: inout Int) {
            node.walk { inner in
                if reaches(inner), !renamingNames.contains(ObjectIdentifier(inner)) { total += 1 }
            }
        }
        function.walk { node in
            switch node.type {
            case "Call" where tableWrites.contains(node.terminalName ?? "") || writers.contains(node.terminalName ?? ""):
                for argument in node.children("args") { count(argument, into: &writes) }
            case "Assign", "AugAssign":
                let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
                for target in targets where target.type == "Subscript" {
                    if let slice = target.child("slice") { count(slice, into: &writes) }
                }
            case "Return" where returnIsWrite:
                if let value = node.child("value"), renames(value) { count(value, into: &writes) }
            default:
                break
            }
        }
        // A table built here and returned is read by the caller: not a write-only update.
        var written: Set<String> = []
        var returned: Set<String> = []
        function.walk { node in
            if node.type == "AugAssign" || node.type == "Assign" {
                let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
                for target in targets where target.type == "Subscript" {
                    if let base = target.child("value")?.dottedName { written.insert(base) }
                }
            }
            if node.type == "Return" { node.walk { if let id = $0.dottedName { returned.insert(id) } } }
        }
        if !written.isDisjoint(with: returned) { return false }
        count(function, into: &uses)
        // A key stored under its own name again (`full_key = full_key.astype(...)`) counts as a use.
        return uses > 0 && uses == writes
    }
}
