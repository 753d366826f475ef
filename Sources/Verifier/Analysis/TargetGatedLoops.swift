/// The statements of one loop over a token sequence, flattened in execution order, as both
/// front ends (Python's `ast`, ``CLoopScanner`` for C) describe them for PG-TARGET-GATED-EXPERT.
///
/// A name of the form `X[]` stands for the element of sequence `X` at the loop's own position
/// (`tokens[i]` in `for (i = 0; ...)`, the value of `for i, tok in enumerate(tokens)`).
struct LoopStatement: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A local bound from the value: `tok = tokens[i]`, `is_boundary = lut[tok]`.
        case bind(String)
        /// An output written at the loop's position: `top_token[i] = ...`.
        case positionWrite(array: String)
        /// Anything that changes state the next iterations see: a call statement, an assignment
        /// to an attribute, a field or a subscript not at the loop's position, a name read before
        /// this iteration assigns it.
        case stateUpdate
        case other
    }

    var kind: Kind
    var line: Int
    /// Names the statement's value reads (`X[]` for the current element).
    var reads: Set<String>
    /// Names used inside a subscript's index in the value: `lut[tok]` → `tok`.
    var lookups: Set<String>
    /// The conditions this statement is control-dependent on, outermost first.
    var gates: [LoopCondition]
}

/// A condition of an `if`/`while`/`?:`, or of an earlier `if` whose branch left the iteration.
struct LoopCondition: Sendable, Equatable {
    var line: Int
    var reads: Set<String>
    var lookups: Set<String>
}

/// A hint written at position i only when a property of the token at i holds, where that token
/// is the one the hint predicts: it enters the loop's state after the hint is written.
struct TargetGatedWrite: Sendable, Equatable {
    /// The outputs written under the condition, in order of their first write.
    var arrays: [String]
    var writeLine: Int
    var conditionLine: Int
    /// The line that reads the token's property (`is_boundary = boundary_lut[tok]`).
    var propertyLine: Int
    /// The first later statement that adds the token to the state.
    var stateLine: Int
}

enum TargetGatedLoops {
    /// The gated writes of one loop body, one per condition: the outputs it gates together.
    static func gatedWrites(_ statements: [LoopStatement]) -> [TargetGatedWrite] {
        // Outputs written at the position are not the sequence the loop reads.
        let outputs = Set(statements.compactMap { statement -> String? in
            if case .positionWrite(let array) = statement.kind { return array + "[]" }
            return nil
        })
        // In statement order: names holding the current element (`tok`), and those holding a
        // property of it read from a table (`is_boundary = boundary_lut[tok]`, and what is
        // computed from those), with the line that read the table. A name assigned later in the
        // iteration still holds the previous iteration's value before that.
        struct Facts {
            var element: Set<String> = []
            var property: [String: Int] = [:]
            func isElement(_ name: String, outputs: Set<String>) -> Bool {
                (name.hasSuffix("[]") && !outputs.contains(name)) || element.contains(name)
            }
        }
        var facts: [Facts] = []
        var current = Facts()
        for statement in statements {
            facts.append(current)
            guard case .bind(let name) = statement.kind else { continue }
            let fromElement = statement.reads.contains { current.isElement($0, outputs: outputs) }
            let lookedUp = statement.lookups.contains { current.isElement($0, outputs: outputs) }
            let propertyLine = lookedUp ? statement.line : statement.reads.compactMap { current.property[$0] }.min()
            if fromElement || propertyLine != nil { current.element.insert(name) } else { current.element.remove(name) }
            current.property[name] = propertyLine
        }
        // A hint reads the expert's state (what the loop's updates touch, `st`, `self`) or values
        // the iteration derived from it (`idx`, `context`); a flag alone is not a hint.
        let stateNames = statements.reduce(into: Set<String>()) { names, statement in
            if statement.kind == .stateUpdate { names.formUnion(statement.reads) }
            if case .bind(let name) = statement.kind { names.insert(name) }
        }
        var result: [TargetGatedWrite] = []
        var hintConditions: Set<Int> = []
        for (position, statement) in statements.enumerated() {
            guard case .positionWrite(let array) = statement.kind else { continue }
            let known = facts[position]
            func isElement(_ name: String) -> Bool { known.isElement(name, outputs: outputs) }
            // A value computed from the token itself (a byte count from a table) is a function of
            // the token, not a hint about it.
            if statement.reads.contains(where: { isElement($0) || known.property[$0] != nil }) { continue }
            guard let gate = statement.gates.first(where: { gate in
                gate.lookups.contains(where: isElement) || gate.reads.contains { known.property[$0] != nil }
            }) else { continue }
            guard let update = statements.indices.dropFirst(position + 1).first(where: { later in
                statements[later].kind == .stateUpdate
                    && statements[later].reads.contains { facts[later].isElement($0, outputs: outputs) }
            }).map({ statements[$0] }) else { continue }
            if statement.reads.contains(where: { stateNames.contains($0) && !isElement($0) && known.property[$0] == nil }) {
                hintConditions.insert(gate.line)
            }
            if let index = result.firstIndex(where: { $0.conditionLine == gate.line }) {
                if !result[index].arrays.contains(array) { result[index].arrays.append(array) }
                continue
            }
            let propertyLine = gate.lookups.contains(where: isElement)
                ? gate.line : gate.reads.compactMap { known.property[$0] }.min() ?? gate.line
            result.append(TargetGatedWrite(arrays: [array], writeLine: statement.line, conditionLine: gate.line,
                                           propertyLine: propertyLine, stateLine: update.line))
        }
        result.removeAll { !hintConditions.contains($0.conditionLine) }
        return result
    }

    /// Marks plain names assigned in the loop but read before their first assignment (state
    /// carried from the previous iteration, `prev = tok`) as state updates too.
    static func markCarriedNames(_ statements: inout [LoopStatement]) {
        var firstRead: [String: Int] = [:]
        var firstBind: [String: Int] = [:]
        for (position, statement) in statements.enumerated() {
            for name in statement.reads.union(statement.gates.flatMap(\.reads)) where firstRead[name] == nil {
                firstRead[name] = position
            }
            if case .bind(let name) = statement.kind, firstBind[name] == nil { firstBind[name] = position }
        }
        var carried: [Int] = []
        for (name, bound) in firstBind {
            if let read = firstRead[name], read < bound { carried.append(bound) }
        }
        for position in carried.sorted(by: >) {
            var update = statements[position]
            update.kind = .stateUpdate
            statements.insert(update, at: position + 1)
        }
    }
}
