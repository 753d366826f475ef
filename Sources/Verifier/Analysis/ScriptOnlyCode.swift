/// The code of a module that runs only when the file is run as a script, never when it is imported:
/// the body of its top-level `if __name__ == "__main__":` (the `else` runs on import), and the
/// top-level functions that only that body reaches, through any chain of calls within the file
/// (a function nothing mentions at all is not counted here).
///
/// A function is reached when its name is mentioned (called, passed, read as an attribute, named
/// in a string) by code that runs on import (top-level statements, class bodies with their
/// methods, decorators and default values) or by a reached function, or when `namedElsewhere` says
/// another file names it. Nothing is script-only when the module reads its own namespace
/// (`globals()`, `locals()`, `vars()`, `sys.modules`): any function may then be called by a name
/// computed at run time.
struct ScriptOnlyCode: Sendable {
    /// Lines `start...end` that run only as a script, and what they are.
    struct Region: Sendable, Equatable {
        var start: Int
        var end: Int
        var construct: String
    }

    let regions: [Region]

    /// The script-only code of `module`; `namedElsewhere(name)` tells whether another file of the
    /// folder may call the module's function `name`.
    init(module: PyNode, namedElsewhere: (String) -> Bool) {
        let statements = module.children("body")
        let blocks = statements.filter { $0.type == "If" && Self.testsRunAsScript($0.child("test")) }
        guard !blocks.isEmpty, !Self.readsOwnNamespace(module) else {
            regions = []
            return
        }
        var functions: [String: [PyNode]] = [:]
        for statement in statements where statement.type == "FunctionDef" || statement.type == "AsyncFunctionDef" {
            if let name = statement.string("name") { functions[name, default: []].append(statement) }
        }
        // What runs on import: everything but the blocks' bodies and the top-level functions' bodies.
        var mentioned: Set<String> = []
        for statement in statements {
            if blocks.contains(where: { $0 === statement }) {
                statement.child("test").map { Self.collectNames($0, into: &mentioned) }
                for branch in statement.children("orelse") { Self.collectNames(branch, into: &mentioned) }
            } else if functions[statement.string("name") ?? ""]?.contains(where: { $0 === statement }) == true {
                for decorator in statement.children("decorator_list") { Self.collectNames(decorator, into: &mentioned) }
                statement.child("args").map { Self.collectNames($0, into: &mentioned) }
                statement.child("returns").map { Self.collectNames($0, into: &mentioned) }
            } else {
                Self.collectNames(statement, into: &mentioned)
            }
        }
        let reached = Self.closure(of: Set(functions.keys.filter { mentioned.contains($0) || namedElsewhere($0) }),
                                   through: functions, excluding: [])
        var blockMentions: Set<String> = []
        for block in blocks {
            for statement in block.children("body") { Self.collectNames(statement, into: &blockMentions) }
        }
        let scriptOnly = Self.closure(of: blockMentions.filter { functions[$0] != nil && !reached.contains($0) },
                                      through: functions, excluding: reached)
        var regions: [Region] = []
        for block in blocks {
            let body = block.children("body")
            guard let first = body.first, let last = body.last else { continue }
            regions.append(Region(start: first.line, end: last.endLine,
                                  construct: "the body of `if __name__ == \"__main__\":` (line \(block.line))"))
        }
        for (name, definitions) in functions where scriptOnly.contains(name) {
            for definition in definitions {
                regions.append(Region(start: definition.line, end: definition.endLine,
                                      construct: "`\(name)`, reached only from that block"))
            }
        }
        self.regions = regions.sorted { $0.start < $1.start }
    }

    /// The functions reached from `start` through the calls in their bodies, those of `excluded` left out.
    static func closure(of start: Set<String>, through functions: [String: [PyNode]], excluding excluded: Set<String>) -> Set<String> {
        var reached: Set<String> = []
        var pending = Array(start.subtracting(excluded))
        while let name = pending.popLast() {
            guard reached.insert(name).inserted else { continue }
            var names: Set<String> = []
            for definition in functions[name] ?? [] {
                for statement in definition.children("body") { collectNames(statement, into: &names) }
            }
            pending.append(contentsOf: names.filter { functions[$0] != nil && !reached.contains($0) && !excluded.contains($0) })
        }
        return reached
    }

    /// The script-only region holding `line`, if any.
    func region(containing line: Int) -> Region? {
        regions.first { $0.start <= line && line <= $0.end }
    }

    /// `__name__ == "__main__"` (either way round), alone or as one term of an `and`.
    static func testsRunAsScript(_ test: PyNode?) -> Bool {
        guard let test else { return false }
        if test.type == "BoolOp", test.child("op")?.type == "And" {
            return test.children("values").contains { testsRunAsScript($0) }
        }
        guard test.type == "Compare", test.children("ops").count == 1, test.children("ops").first?.type == "Eq",
              let left = test.child("left"), let right = test.children("comparators").first else { return false }
        let isName = { (node: PyNode) in node.type == "Name" && node.string("id") == "__name__" }
        return (isName(left) && right.stringLiteral == "__main__") || (isName(right) && left.stringLiteral == "__main__")
    }

    /// `globals()`, `locals()`, `vars()` or `sys.modules` anywhere in the module.
    static func readsOwnNamespace(_ module: PyNode) -> Bool {
        var reads = false
        module.walk { node in
            guard !reads else { return }
            if node.type == "Call", let callee = node.child("func"), callee.type == "Name",
               let name = callee.string("id"), ["globals", "locals", "vars"].contains(name), node.children("args").isEmpty {
                reads = true
            } else if node.type == "Attribute", node.string("attr") == "modules", node.child("value")?.string("id") == "sys" {
                reads = true
            }
        }
        return reads
    }

    /// Every name `node` mentions: `Name` ids, `Attribute` attrs and string literals.
    static func collectNames(_ node: PyNode, into names: inout Set<String>) {
        node.walk { child in
            switch child.type {
            case "Name": if let id = child.string("id") { names.insert(id) }
            case "Attribute": if let attr = child.string("attr") { names.insert(attr) }
            case "Constant": if let text = child.stringLiteral, text.utf8.count < 256 { names.insert(text) }
            default: break
            }
        }
    }
}
