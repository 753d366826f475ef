/// Describes a Python `for` loop over positions as ``LoopStatement``s for
/// PG-TARGET-GATED-EXPERT: `for i, tok in enumerate(tokens)` (the element is `tokens[]`) or
/// `for i in range(n)` with `tokens[i]` read in the body.
enum PythonLoopStatements {
    /// The loop's position variable and its statements, or nil for a loop not over positions.
    static func describe(_ loop: PyNode) -> (variable: String, statements: [LoopStatement])? {
        guard loop.type == "For", let target = loop.child("target"), let iterable = loop.child("iter") else { return nil }
        var statements: [LoopStatement] = []
        let variable: String
        if iterable.type == "Call", iterable.child("func")?.dottedName == "enumerate",
           target.type == "Tuple", target.children("elts").count == 2,
           let position = target.children("elts")[0].string("id") {
            variable = position
            let sequence = iterable.children("args").first?.dottedName ?? "sequence"
            let element = target.children("elts")[1]
            if let name = element.string("id") {
                statements.append(LoopStatement(kind: .bind(name), line: loop.line, reads: [sequence + "[]"], lookups: [], gates: []))
            }
        } else if iterable.type == "Call", iterable.child("func")?.dottedName == "range", let position = target.string("id") {
            variable = position
        } else {
            return nil
        }
        describe(loop.children("body"), variable: variable, gates: [], into: &statements)
        TargetGatedLoops.markCarriedNames(&statements)
        return (variable, statements)
    }

    /// Appends `body`'s statements; returns whether the block always leaves the iteration.
    @discardableResult
    private static func describe(_ body: [PyNode], variable: String, gates: [LoopCondition],
                                 into statements: inout [LoopStatement]) -> Bool {
        var gates = gates
        for statement in body {
            switch statement.type {
            case "Continue", "Break", "Return", "Raise":
                return true
            case "If", "While":
                guard let test = statement.child("test") else { continue }
                let (reads, lookups) = names(test, variable: variable)
                let condition = LoopCondition(line: statement.line, reads: reads, lookups: lookups)
                let thenLeaves = describe(statement.children("body"), variable: variable, gates: gates + [condition], into: &statements)
                let otherwise = statement.children("orelse")
                let elseLeaves = describe(otherwise, variable: variable, gates: gates + [condition], into: &statements)
                if statement.type == "If" && (thenLeaves || (elseLeaves && !otherwise.isEmpty)) {
                    if thenLeaves && elseLeaves && !otherwise.isEmpty { return true }
                    gates.append(condition)
                }
            case "For", "AsyncFor":
                // An inner loop's statements run under the outer loop's conditions.
                describe(statement.children("body"), variable: variable, gates: gates, into: &statements)
            case "With", "AsyncWith", "Try", "TryStar":
                describe(statement.children("body") + statement.children("handlers").flatMap { $0.children("body") }
                         + statement.children("orelse") + statement.children("finalbody"),
                         variable: variable, gates: gates, into: &statements)
            case "Assign", "AugAssign", "AnnAssign":
                guard let value = statement.child("value") else { continue }
                var (reads, lookups) = names(value, variable: variable)
                let targets = statement.type == "Assign" ? statement.children("targets") : [statement.child("target")].compactMap { $0 }
                for target in targets {
                    if statement.type == "AugAssign" {
                        let (targetReads, _) = names(target, variable: variable)
                        reads.formUnion(targetReads)
                    }
                    statements.append(contentsOf: assignment(to: target, reads: reads, lookups: lookups, line: statement.line,
                                                             variable: variable, gates: gates))
                }
                lookups = []
            case "Expr":
                guard let value = statement.child("value"), value.type == "Call" else { continue }
                let (reads, lookups) = names(value, variable: variable)
                statements.append(LoopStatement(kind: .stateUpdate, line: statement.line, reads: reads, lookups: lookups, gates: gates))
            default:
                continue
            }
        }
        return false
    }

    private static func assignment(to target: PyNode, reads: Set<String>, lookups: Set<String>, line: Int,
                                   variable: String, gates: [LoopCondition]) -> [LoopStatement] {
        switch target.type {
        case "Name":
            guard let name = target.string("id") else { return [] }
            return [LoopStatement(kind: .bind(name), line: line, reads: reads, lookups: lookups, gates: gates)]
        case "Tuple", "List":
            return target.children("elts").flatMap {
                assignment(to: $0, reads: reads, lookups: lookups, line: line, variable: variable, gates: gates)
            }
        case "Subscript":
            if let array = target.child("value"), array.type == "Name", let name = array.string("id"),
               target.child("slice")?.string("id") == variable, target.child("slice")?.type == "Name" {
                return [LoopStatement(kind: .positionWrite(array: name), line: line, reads: reads, lookups: lookups, gates: gates)]
            }
            let (targetReads, targetLookups) = names(target, variable: variable)
            return [LoopStatement(kind: .stateUpdate, line: line, reads: reads.union(targetReads),
                                  lookups: lookups.union(targetLookups), gates: gates)]
        default:
            let (targetReads, targetLookups) = names(target, variable: variable)
            return [LoopStatement(kind: .stateUpdate, line: line, reads: reads.union(targetReads),
                                  lookups: lookups.union(targetLookups), gates: gates)]
        }
    }

    /// Names `node` reads (`X[]` for `X[variable]`), and those read inside subscripts' indices.
    static func names(_ node: PyNode, variable: String) -> (reads: Set<String>, lookups: Set<String>) {
        var reads: Set<String> = []
        var lookups: Set<String> = []
        func visit(_ node: PyNode, inIndex: Bool) {
            switch node.type {
            case "Name":
                guard let name = node.string("id"), name != variable else { return }
                reads.insert(name)
                if inIndex { lookups.insert(name) }
            case "Subscript":
                guard let value = node.child("value"), let slice = node.child("slice") else { return }
                if slice.type == "Name", slice.string("id") == variable, let sequence = value.dottedName {
                    reads.insert(sequence + "[]")
                    if inIndex { lookups.insert(sequence + "[]") }
                    return
                }
                visit(value, inIndex: inIndex)
                visit(slice, inIndex: true)
            case "Attribute":
                // `self.table` reads `self`; the attribute name is not a variable.
                if let value = node.child("value") { visit(value, inIndex: inIndex) }
            default:
                for child in node.childNodes { visit(child, inIndex: inIndex) }
            }
        }
        visit(node, inIndex: false)
        return (reads, lookups)
    }
}
