/// What the body of an `if` does with the copies of the model's state it takes (`state_dict()`,
/// `deepcopy`), for PG-VAL-IN-TRAINING's checkpoint selection.
///
/// The state is **kept** when the body loads state (`load_state_dict`, `load`), when a copy (or
/// any value made by a call other than a scalar conversion) is bound to something read after the
/// body (a name read outside it, an attribute, a subscript, a `global`), when the body calls
/// anything but `torch.save`, a log line or a wait (`barrier`, `synchronize`, `empty_cache`,
/// `makedirs`), returns, or breaks out of its loop. It is **only
/// saved** when the copies reach nothing but `torch.save(copy, path)` and a path whose text
/// (its literals, or those bound to its name in the module) no line of the folder's code reads back
/// (`load`, `open`, `read`) and no other code of the module names. It is **not kept** when the copies
/// only feed values the body logs. What cannot be told (a path without literal text) is kept.
enum KeptState: Equatable {
    case kept
    /// Written only to the file `path` (as the code spells it) at `line`.
    case savedOnly(path: String, line: Int)
    case notKept

    static let stateCalls: Set<String> = ["state_dict", "deepcopy"]
    static let loadCalls: Set<String> = ["load_state_dict", "load"]
    /// Calls that make a number or text from their arguments, never a copy of the state.
    static let scalarCalls: Set<String> = [
        "float", "int", "bool", "str", "round", "abs", "len", "item", "isfinite", "isnan", "isinf", "getsize",
        "perf_counter", "time", "min", "max",
    ]
    /// Calls that use a path without reading the file.
    static let pathOnlyCalls: Set<String> = ["getsize", "exists", "isfile", "makedirs", "dirname", "basename"]
    /// What a line of code reading a file back contains.
    static let readMarkers = ["load", "open(", "read"]

    /// The kept state of `statement`'s body, in `function` of `module`; `codeLines` are the trimmed
    /// lines of the folder's Python files.
    static func of(_ statement: PyNode, in function: PyNode, module: PyNode, codeLines: Set<String>,
                   documents: [String]) -> KeptState {
        var walker = BodyWalker()
        let body = statement.children("body")
        var loads = false
        for node in body { node.walk { if $0.type == "Call", let name = $0.terminalName, loadCalls.contains(name) { loads = true } } }
        var stateInElse = false
        for node in statement.children("orelse") {
            node.walk { if $0.type == "Call", let name = $0.terminalName, stateCalls.contains(name) || loadCalls.contains(name) { stateInElse = true } }
        }
        guard !loads, !stateInElse, walker.process(body) else { return .kept }
        // A copy, or a value made by a call, read after the body or declared global/nonlocal escapes it.
        let bound = walker.holders.union(walker.made)
        var escapes = false
        function.walk { node in
            guard !escapes else { return }
            if node.type == "Name", let id = node.string("id"), bound.contains(id),
               node.line < statement.line || node.line > statement.endLine {
                escapes = true
            } else if node.type == "Global" || node.type == "Nonlocal",
                      case .strings(let names) = node[field: "names"], names.contains(where: bound.contains) {
                escapes = true
            }
        }
        guard !escapes else { return .kept }
        guard let save = walker.saves.first else { return walker.holders.isEmpty && !walker.sawState ? .kept : .notKept }
        for save in walker.saves where !isNeverRead(save.path, module: module, codeLines: codeLines, documents: documents) {
            return .kept
        }
        return .savedOnly(path: outline(save.path), line: save.line)
    }

    /// Whether the file `path` names is read nowhere: the names bound to it (and those bound to a
    /// value holding its literal text or one of those names, `p = os.environ.get("P", "best.pt")`)
    /// are passed to no call but `torch.save`, a log line, a setting read and path-only calls
    /// (`getsize`, `exists`, `makedirs`); its literal text is in no such call either, in no line of
    /// the folder's code that reads a file, and not in the README or submission.json.
    static func isNeverRead(_ path: PyNode, module: PyNode, codeLines: Set<String>, documents: [String]) -> Bool {
        var literals = Set(stringParts(of: path).filter { $0.utf8.count >= 4 })
        var names: Set<String> = []
        if let name = path.type == "Name" ? path.string("id") : path.type == "Attribute" ? path.string("attr") : nil {
            names.insert(name)
        }
        var assignments: [PyNode] = []
        module.walk { if $0.type == "Assign" || $0.type == "AnnAssign" { assignments.append($0) } }
        var changed = true
        while changed {
            changed = false
            for assignment in assignments {
                guard let value = assignment.child("value") else { continue }
                let targets = (assignment.children("targets") + [assignment.child("target")].compactMap { $0 })
                    .compactMap { $0.type == "Name" ? $0.string("id") : $0.type == "Attribute" ? $0.string("attr") : nil }
                let related = targets.contains(where: names.contains) || mentions(value, names: names, literals: literals)
                guard related else { continue }
                let before = (names.count, literals.count)
                names.formUnion(targets)
                literals.formUnion(stringParts(of: value).filter { $0.utf8.count >= 4 })
                if before != (names.count, literals.count) { changed = true }
            }
        }
        guard !literals.isEmpty else { return false }
        if documents.contains(where: { text in literals.contains(where: text.contains) }) { return false }
        for line in codeLines where literals.contains(where: line.contains) {
            if readMarkers.contains(where: line.contains) { return false }
        }
        var read = false
        module.walk { node in
            guard !read, node.type == "Call", let name = node.terminalName else { return }
            let dotted = node.child("func")?.dottedName ?? name
            guard !pathOnlyCalls.contains(name), !BodyWalker.isLogName(name), !BodyWalker.isSave(node),
                  !settingReads.contains(dotted) else { return }
            let arguments = node.children("args") + node.children("keywords").compactMap { $0.child("value") }
            read = arguments.contains { mentions($0, names: names, literals: literals) }
        }
        return !read
    }

    /// Reads of a setting, whose default may be the path's text.
    static let settingReads: Set<String> = ["os.environ.get", "os.getenv", "environ.get", "getenv"]

    /// Whether `node` mentions one of `names` (a name or an attribute) or holds one of `literals`.
    static func mentions(_ node: PyNode, names: Set<String>, literals: Set<String>) -> Bool {
        var found = false
        node.walk { child in
            guard !found else { return }
            switch child.type {
            case "Name": found = names.contains(child.string("id") ?? "")
            case "Attribute": found = names.contains(child.string("attr") ?? "")
            case "Constant": if let text = child.stringLiteral { found = literals.contains(where: text.contains) }
            default: break
            }
        }
        return found
    }

    /// The string literals inside `node` (an f-string's literal parts included).
    static func stringParts(of node: PyNode) -> [String] {
        var parts: [String] = []
        node.walk { if let text = $0.stringLiteral { parts.append(text) } }
        return parts
    }

    /// A short spelling of a path expression: its name, dotted name or literal parts.
    static func outline(_ path: PyNode) -> String {
        if let name = path.dottedName { return name }
        if let text = path.stringLiteral { return "\"\(text)\"" }
        let parts = stringParts(of: path)
        return parts.isEmpty ? "a computed path" : "a path ending in \"\(parts.last!)\""
    }
}

/// Follows the copies of the state through an `if` body's statements.
private struct BodyWalker {
    /// Names bound to a copy of the state or to a value computed from one.
    var holders: Set<String> = []
    /// Names bound to other values made by a call.
    var made: Set<String> = []
    var saves: [(path: PyNode, line: Int)] = []
    var sawState = false

    static func isLogName(_ name: String) -> Bool {
        name == "print" || name.hasPrefix("log") || ["info", "debug", "warning"].contains(name)
    }

    /// Calls that wait, free memory or make folders: they keep nothing.
    static let harmlessCalls: Set<String> = ["barrier", "synchronize", "empty_cache", "makedirs", "mkdir", "flush"]

    static func isSave(_ call: PyNode) -> Bool {
        call.child("func")?.dottedName == "torch.save"
    }

    func mentionsMade(_ node: PyNode) -> Bool {
        var found = false
        node.walk { child in
            if !found, child.type == "Name", let id = child.string("id"), made.contains(id) { found = true }
        }
        return found
    }

    func mentionsState(_ node: PyNode) -> Bool {
        var found = false
        node.walk { child in
            if found { return }
            if child.type == "Call", let name = child.terminalName, KeptState.stateCalls.contains(name) { found = true }
            if child.type == "Name", let id = child.string("id"), holders.contains(id) { found = true }
        }
        return found
    }

    static func isMade(_ node: PyNode) -> Bool {
        var made = false
        node.walk { child in
            switch child.type {
            case "Call":
                if let name = child.terminalName, !KeptState.scalarCalls.contains(name), !isLogName(name) { made = true }
            case "ListComp", "DictComp", "SetComp", "GeneratorExp", "Lambda":
                made = true
            default:
                break
            }
        }
        return made
    }

    /// The names bound by an assignment target; nil when it binds an attribute or a subscript.
    static func names(_ target: PyNode) -> [String]? {
        switch target.type {
        case "Name": return target.string("id").map { [$0] }
        case "Tuple", "List":
            var result: [String] = []
            for element in target.children("elts") {
                guard let inner = names(element.type == "Starred" ? element.child("value") ?? element : element) else { return nil }
                result += inner
            }
            return result
        default: return nil
        }
    }

    /// False when a statement keeps the state (or cannot be followed).
    mutating func process(_ statements: [PyNode]) -> Bool {
        for statement in statements {
            switch statement.type {
            case "If", "While":
                guard process(statement.children("body")), process(statement.children("orelse")) else { return false }
            case "For", "AsyncFor":
                guard let target = statement.child("target"), let bound = Self.names(target) else { return false }
                if let iterable = statement.child("iter"), mentionsState(iterable) {
                    sawState = true
                    holders.formUnion(bound)
                } else {
                    made.formUnion(bound)
                }
                guard process(statement.children("body")), process(statement.children("orelse")) else { return false }
            case "With", "AsyncWith":
                for item in statement.children("items") {
                    if let variable = item.child("optional_vars") {
                        guard let bound = Self.names(variable) else { return false }
                        made.formUnion(bound)
                    }
                }
                guard process(statement.children("body")) else { return false }
            case "Try", "TryStar":
                guard process(statement.children("body")), process(statement.children("orelse")),
                      process(statement.children("finalbody")),
                      statement.children("handlers").allSatisfy({ process($0.children("body")) }) else { return false }
            case "Assign", "AnnAssign", "AugAssign":
                guard let value = statement.child("value") else { continue }
                let targets = statement.type == "Assign" ? statement.children("targets") : statement.child("target").map { [$0] } ?? []
                let fromState = mentionsState(value)
                guard fromState || Self.isMade(value) || mentionsMade(value) else { continue }
                var bound: [String] = []
                for target in targets {
                    guard let names = Self.names(target) else { return false }
                    bound += names
                }
                if fromState {
                    sawState = true
                    holders.formUnion(bound)
                } else {
                    made.formUnion(bound)
                }
            case "Expr":
                guard let call = statement.child("value") else { continue }
                guard call.type == "Call" else {
                    if mentionsState(call) { return false }
                    continue
                }
                if Self.isSave(call) {
                    let path = call.children("args").dropFirst().first
                        ?? call.children("keywords").first { $0.string("arg") == "f" }?.child("value")
                    guard let path else { return false }
                    if let saved = call.children("args").first, mentionsState(saved) { sawState = true }
                    saves.append((path, statement.line))
                } else if let name = call.terminalName, Self.isLogName(name) || Self.harmlessCalls.contains(name) {
                    continue
                } else {
                    // Any other call may keep the weights itself (`ema.apply_shadow()`, `save_best(model)`).
                    return false
                }
            case "Pass", "Delete":
                continue
            default:
                return false
            }
        }
        return true
    }
}
