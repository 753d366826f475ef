/// Reads a module's settings from its syntax tree, without executing anything: the attributes of its
/// `class Hyperparameters` and the module-level names they are built from.
///
/// Statements are read in execution order, so a name means what Python would bind it to at that point:
/// a class attribute assigned earlier, else a module-level name. Values are ``SettingExpression``s:
/// literals, `os.environ.get`/`os.getenv`/`os.environ[...]` reads (through import and assignment aliases
/// such as `_E = os.environ.get` or `env = os.environ`), `int`/`float`/`bool`/`str` conversions (also
/// through aliases such as `I = int`), arithmetic, references to other settings, entries of dict
/// literals, and calls of helpers whose body is a single `return` (`def env_int(k, d): return
/// int(os.environ.get(k, d))`, lambdas), inlined with their arguments. Anything else makes the setting
/// unreadable, with the line and the construct, never a guessed value.
struct HyperparameterReader {
    /// Why a setting cannot be read.
    struct Unreadable: Error {
        var line: Int
        var construct: String
    }

    /// What a name is bound to while reading.
    enum Binding {
        case value(SettingExpression)
        case unreadable(Unreadable)
        case conversion(SettingExpression.Conversion)
        /// `os.environ` itself (`env = os.environ`).
        case environmentMapping
        /// `os.environ.get` or `os.getenv` itself (`_E = os.environ.get`).
        case environmentReader
        /// A function whose body is one `return` (or a lambda).
        case helper(Helper)
        /// A dict literal's entries by string key.
        case dictionary([String: Binding])
    }

    struct Helper {
        var name: String
        var parameters: [String]
        /// Defaults of the trailing parameters, read where the function was defined.
        var defaults: [String: Binding]
        var body: PyNode
    }

    /// Names bound in one scope, looked up before the enclosing one.
    final class Scope {
        var names: [String: Binding] = [:]
        let parent: Scope?
        init(parent: Scope?) { self.parent = parent }
        func lookup(_ name: String) -> Binding? { names[name] ?? parent?.lookup(name) }
    }

    let file: String
    let aliases: ImportAliases
    static let maxDepth = 48

    /// The settings of `module`, read from `file`.
    static func read(module: PyNode, file: String) -> HyperparameterDefaults {
        let reader = HyperparameterReader(file: file, aliases: ImportAliases(module: module))
        var result = HyperparameterDefaults(file: file)
        let moduleScope = Scope(parent: nil)
        var classScope: Scope?
        for statement in module.children("body") {
            if statement.type == "ClassDef", statement.string("name") == "Hyperparameters" {
                let scope = Scope(parent: moduleScope)
                for inner in statement.children("body") { reader.bind(inner, in: scope, isClassBody: true) }
                classScope = scope  // the last definition is the class Python keeps
                moduleScope.names["Hyperparameters"] = nil
                continue
            }
            reader.bind(statement, in: moduleScope, isClassBody: false)
        }
        // Module-level settings named after their variable (`NUM_LAYERS = int(os.environ.get("NUM_LAYERS", 9))`)
        // count where the class does not say otherwise; other module-level names (dicts of settings,
        // constants) only through the class attributes that read them.
        for (name, binding) in moduleScope.names {
            switch binding {
            case .value(let expression):
                if let variable = expression.primaryVariable, variable.lowercased() == name.lowercased() {
                    result.add(name: name.lowercased(), binding: binding, file: file, line: reader.lines[name] ?? 0, moduleLevel: true)
                }
            default:
                break
            }
        }
        if let classScope {
            result.foundClass = true
            for (name, binding) in classScope.names {
                result.add(name: name, binding: binding, file: file, line: reader.lines["Hyperparameters." + name] ?? 0,
                           moduleLevel: false)
            }
        }
        return result
    }

    /// Lines of the statements that last bound each name (`Hyperparameters.` prefixed for the class).
    private let lineBox = LineBox()
    private final class LineBox { var lines: [String: Int] = [:] }
    var lines: [String: Int] { lineBox.lines }

    init(file: String, aliases: ImportAliases) {
        self.file = file
        self.aliases = aliases
    }

    // MARK: - Statements

    /// Binds what `statement` assigns in `scope`.
    func bind(_ statement: PyNode, in scope: Scope, isClassBody: Bool) {
        func record(_ name: String, _ binding: Binding) {
            scope.names[name] = binding
            lineBox.lines[(isClassBody ? "Hyperparameters." : "") + name] = statement.line
        }
        switch statement.type {
        case "Assign":
            guard let value = statement.child("value") else { return }
            for target in statement.children("targets") { assign(target, value: value, line: statement.line, in: scope, record) }
        case "AnnAssign":
            guard let target = statement.child("target"), target.type == "Name", let name = target.string("id") else { return }
            guard let value = statement.child("value") else {
                if isClassBody {
                    record(name, .unreadable(Unreadable(line: statement.line, construct: "an annotation without a value")))
                }
                return
            }
            record(name, binding(of: dataclassDefault(value) ?? value, in: scope, line: statement.line))
        case "AugAssign":
            guard let target = statement.child("target"), target.type == "Name", let name = target.string("id") else { return }
            guard let op = statement.child("op").flatMap({ Self.operators[$0.type] }), let value = statement.child("value"),
                  case .value(let current)? = scope.lookup(name) else {
                record(name, .unreadable(Unreadable(line: statement.line, construct: "an augmented assignment pgverify does not evaluate")))
                return
            }
            switch expression(value, in: scope, depth: 0) {
            case .success(let right): record(name, .value(.binary(op, current, right)))
            case .failure(let failure): record(name, .unreadable(failure))
            }
        case "FunctionDef", "AsyncFunctionDef":
            guard let name = statement.string("name") else { return }
            let decorators = statement.children("decorator_list").compactMap { $0.dottedName ?? $0.terminalName }
            if decorators.contains(where: { $0.hasSuffix("property") }) {
                record(name, .unreadable(Unreadable(line: statement.line, construct: "a property computed by a method")))
            } else if decorators.isEmpty, let helper = helper(statement, name: name, in: scope) {
                record(name, .helper(helper))
            } else {
                record(name, .unreadable(Unreadable(
                    line: statement.line, construct: "`\(name)`, a function whose body is not a single `return`")))
            }
        case "ClassDef":
            if let name = statement.string("name") {
                record(name, .unreadable(Unreadable(line: statement.line, construct: "a class")))
            }
        case "Import", "ImportFrom":
            for alias in statement.children("names") {
                guard let name = alias.string("asname") ?? alias.string("name")?.split(separator: ".").first.map(String.init)
                else { continue }
                scope.names[name] = nil  // a module, resolved through ``ImportAliases``
            }
        case "If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match":
            // Which branch runs is not decided here: every name bound inside is unreadable.
            let construct = "assigned inside `\(Self.keyword(statement.type))` (line \(statement.line))"
            for name in Self.boundNames(statement) {
                record(name, .unreadable(Unreadable(line: statement.line, construct: construct)))
            }
        default:
            break
        }
    }

    /// Binds `target = value`, element-wise for tuples of the same length.
    private func assign(_ target: PyNode, value: PyNode, line: Int, in scope: Scope, _ record: (String, Binding) -> Void) {
        switch target.type {
        case "Name":
            if let name = target.string("id") { record(name, binding(of: value, in: scope, line: line)) }
        case "Tuple", "List":
            let targets = target.children("elts")
            let values = ["Tuple", "List"].contains(value.type) ? value.children("elts") : []
            for (index, element) in targets.enumerated() {
                if values.count == targets.count {
                    assign(element, value: values[index], line: line, in: scope, record)
                } else if element.type == "Name", let name = element.string("id") {
                    record(name, .unreadable(Unreadable(line: line, construct: "unpacked from an expression pgverify does not evaluate")))
                }
            }
        default:
            break  // attributes and subscripts bind no name of this scope
        }
    }

    /// What `value` binds a name to.
    func binding(of value: PyNode, in scope: Scope, line: Int) -> Binding {
        switch value.type {
        case "Lambda":
            if let helper = helper(value, name: "lambda", in: scope) { return .helper(helper) }
        case "Name":
            if let name = value.string("id"), let bound = scope.lookup(name) { return bound }
            if let name = value.string("id"), let conversion = SettingExpression.Conversion(rawValue: name) {
                return .conversion(conversion)
            }
        case "Attribute":
            if aliases.resolve(value) == "os.environ" { return .environmentMapping }
            if aliases.resolve(value).map(ImportAliases.environmentReaders.contains) == true { return .environmentReader }
        case "Dict":
            var entries: [String: Binding] = [:]
            for (key, entry) in zip(value.children("keys"), value.children("values")) {
                if let text = key.stringLiteral { entries[text] = binding(of: entry, in: scope, line: line) }
            }
            return .dictionary(entries)
        case "Call":
            if value.child("func").map({ $0.type == "Name" && $0.string("id") == "dict" && scope.lookup("dict") == nil }) == true,
               value.children("args").isEmpty {
                var entries: [String: Binding] = [:]
                for keyword in value.children("keywords") {
                    guard let key = keyword.string("arg"), let entry = keyword.child("value") else { continue }
                    entries[key] = binding(of: entry, in: scope, line: line)
                }
                return .dictionary(entries)
            }
        default:
            break
        }
        switch expression(value, in: scope, depth: 0) {
        case .success(let expression): return .value(expression)
        case .failure(let failure): return .unreadable(failure)
        }
    }

    /// `field(default=X)` / `field(default_factory=lambda: X)` of a dataclass: `X`.
    private func dataclassDefault(_ value: PyNode) -> PyNode? {
        guard value.type == "Call", let callee = aliases.resolve(value.child("func")),
              callee == "field" || callee.hasSuffix("dataclasses.field") else { return nil }
        for keyword in value.children("keywords") {
            if keyword.string("arg") == "default" { return keyword.child("value") }
            if keyword.string("arg") == "default_factory", let factory = keyword.child("value"), factory.type == "Lambda",
               factory.child("args")?.children("args").isEmpty ?? true {
                return factory.child("body")
            }
        }
        return nil
    }

    /// A function (or lambda) whose body is one `return` (after a docstring), with plain parameters.
    private func helper(_ node: PyNode, name: String, in scope: Scope) -> Helper? {
        guard let arguments = node.child("args"), arguments.child("vararg") == nil, arguments.child("kwarg") == nil,
              arguments.children("kwonlyargs").isEmpty else { return nil }
        let parameters = (arguments.children("posonlyargs") + arguments.children("args")).compactMap { $0.string("arg") }
        let body: PyNode
        if node.type == "Lambda" {
            guard let expression = node.child("body") else { return nil }
            body = expression
        } else {
            var statements = node.children("body")
            if let first = statements.first, first.type == "Expr", first.child("value")?.stringLiteral != nil {
                statements.removeFirst()
            }
            guard statements.count == 1, statements[0].type == "Return", let value = statements[0].child("value") else { return nil }
            body = value
        }
        let defaultNodes = arguments.children("defaults")
        var defaults: [String: Binding] = [:]
        for (parameter, value) in zip(parameters.suffix(defaultNodes.count), defaultNodes) {
            defaults[parameter] = binding(of: value, in: scope, line: node.line)
        }
        return Helper(name: name, parameters: parameters, defaults: defaults, body: body)
    }

    // MARK: - Expressions

    static let operators: [String: SettingExpression.Operator] = [
        "Add": .add, "Sub": .subtract, "Mult": .multiply, "Div": .divide, "FloorDiv": .floorDivide, "Mod": .modulo,
        "Pow": .power,
    ]

    /// `node` as a setting expression, or why it is not one.
    func expression(_ node: PyNode, in scope: Scope, depth: Int) -> Result<SettingExpression, Unreadable> {
        func fail(_ construct: String) -> Result<SettingExpression, Unreadable> {
            .failure(Unreadable(line: node.line, construct: construct))
        }
        guard depth < Self.maxDepth else { return fail("an expression nested deeper than \(Self.maxDepth) levels") }
        switch node.type {
        case "Constant":
            switch node.constant {
            case .int(let text)?:
                guard let value = Int(text) else { return fail("the integer \(text), larger than pgverify's integers") }
                return .success(.literal(.int(value)))
            case .float(let value)?: return .success(.literal(.float(value)))
            case .string(let text)?: return .success(.literal(.string(text)))
            case .bool(let flag)?: return .success(.literal(.bool(flag)))
            case .none?: return fail("`None`")
            default: return fail("a literal that is not a number, string or boolean")
            }
        case "UnaryOp":
            guard let operand = node.child("operand") else { return fail("a unary operation") }
            switch node.child("op")?.type {
            case "USub": return expression(operand, in: scope, depth: depth + 1).map { .negate($0) }
            case "UAdd": return expression(operand, in: scope, depth: depth + 1)
            default: return fail("a `\(node.child("op")?.type ?? "?")` operation")
            }
        case "BinOp":
            guard let op = node.child("op").flatMap({ Self.operators[$0.type] }), let left = node.child("left"),
                  let right = node.child("right") else { return fail("a `\(node.child("op")?.type ?? "?")` operation") }
            return expression(left, in: scope, depth: depth + 1).flatMap { lhs in
                expression(right, in: scope, depth: depth + 1).map { .binary(op, lhs, $0) }
            }
        case "Name":
            let name = node.string("id") ?? "?"
            switch scope.lookup(name) {
            case .value(let expression)?: return .success(expression)
            case .unreadable(let failure)?:
                return fail("`\(name)`, itself unreadable (line \(failure.line): \(failure.construct))")
            case nil: return fail("`\(name)`, a name bound nowhere pgverify reads")
            default: return fail("`\(name)`, not a value")
            }
        case "Subscript":
            return subscriptValue(node, in: scope, depth: depth)
        case "Call":
            return call(node, in: scope, depth: depth)
        case "IfExp": return fail("a conditional expression (`… if … else …`)")
        case "JoinedStr": return fail("an f-string")
        case "Attribute": return fail("the attribute `\(node.dottedName ?? node.string("attr") ?? "?")`")
        default: return fail("a `\(node.type)` expression")
        }
    }

    private func subscriptValue(_ node: PyNode, in scope: Scope, depth: Int) -> Result<SettingExpression, Unreadable> {
        let fail = { (construct: String) in Result<SettingExpression, Unreadable>.failure(Unreadable(line: node.line, construct: construct)) }
        guard let container = node.child("value"), let key = node.child("slice")?.stringLiteral else {
            return fail("a subscript pgverify does not evaluate")
        }
        if isEnvironmentMapping(container, in: scope) { return .success(.environment(variable: key, fallback: nil)) }
        if container.type == "Name", let name = container.string("id"), case .dictionary(let entries)? = scope.lookup(name) {
            switch entries[key] {
            case .value(let expression)?: return .success(expression)
            case .unreadable(let failure)?: return .failure(failure)
            default: return fail("`\(name)[\"\(key)\"]`, not a value of the dict")
            }
        }
        return fail("a subscript pgverify does not evaluate")
    }

    private func isEnvironmentMapping(_ node: PyNode, in scope: Scope) -> Bool {
        if node.type == "Name", let name = node.string("id"), let bound = scope.lookup(name) {
            if case .environmentMapping = bound { return true }
            return false
        }
        return aliases.resolve(node) == "os.environ"
    }

    private func call(_ node: PyNode, in scope: Scope, depth: Int) -> Result<SettingExpression, Unreadable> {
        let fail = { (construct: String) in Result<SettingExpression, Unreadable>.failure(Unreadable(line: node.line, construct: construct)) }
        guard let function = node.child("func") else { return fail("a call") }
        let arguments = node.children("args")
        let keywords = node.children("keywords")
        guard !arguments.contains(where: { $0.type == "Starred" }), !keywords.contains(where: { $0.string("arg") == nil }) else {
            return fail("a call with unpacked arguments")
        }
        let calleeText = function.dottedName ?? function.terminalName ?? "?"
        // Environment reads: os.environ.get / os.getenv and their aliases, `env.get` of `env = os.environ`.
        let resolved = aliases.resolve(function)
        let boundName = function.type == "Name" ? function.string("id").flatMap { scope.lookup($0) } : nil
        var readsEnvironment = boundName == nil && resolved.map(ImportAliases.environmentReaders.contains) == true
        if case .environmentReader? = boundName { readsEnvironment = true }
        readsEnvironment = readsEnvironment
            || (function.type == "Attribute" && function.string("attr") == "get"
                && function.child("value").map { isEnvironmentMapping($0, in: scope) } == true)
        if readsEnvironment {
            guard let keyNode = arguments.first ?? keywords.first(where: { ["key", "name"].contains($0.string("arg")) })?.child("value")
            else { return fail("`\(calleeText)` without a variable name") }
            guard case .success(.literal(.string(let variable))) = expression(keyNode, in: scope, depth: depth + 1) else {
                return fail("`\(calleeText)` of a variable name that is not a string pgverify reads")
            }
            let fallbackNode = arguments.count > 1 ? arguments[1] : keywords.first { $0.string("arg") == "default" }?.child("value")
            guard let fallbackNode else { return .success(.environment(variable: variable, fallback: nil)) }
            return expression(fallbackNode, in: scope, depth: depth + 1).map { .environment(variable: variable, fallback: $0) }
        }
        // Conversions: builtins not shadowed, and names bound to them.
        var conversion: SettingExpression.Conversion?
        if case .conversion(let bound)? = boundName {
            conversion = bound
        } else if boundName == nil, function.type == "Name", let name = function.string("id") {
            conversion = SettingExpression.Conversion(rawValue: name)
        }
        if let conversion {
            guard arguments.count == 1, keywords.isEmpty else {
                return fail("`\(calleeText)(…)` with \(arguments.count) arguments")
            }
            return expression(arguments[0], in: scope, depth: depth + 1).map { .convert(conversion, $0) }
        }
        if case .helper(let helper)? = boundName {
            return inline(helper, arguments: arguments, keywords: keywords, call: node, in: scope, depth: depth)
        }
        if case .unreadable(let failure)? = boundName {
            return fail("a call of `\(calleeText)` (line \(failure.line): \(failure.construct))")
        }
        return fail("a call of `\(calleeText)`, which pgverify does not evaluate")
    }

    /// The helper's `return` expression read with its parameters bound to the call's arguments.
    private func inline(_ helper: Helper, arguments: [PyNode], keywords: [PyNode], call: PyNode, in scope: Scope,
                        depth: Int) -> Result<SettingExpression, Unreadable> {
        let local = Scope(parent: moduleScope(of: scope))
        guard arguments.count <= helper.parameters.count else {
            return .failure(Unreadable(line: call.line, construct: "a call of `\(helper.name)` with too many arguments"))
        }
        for (parameter, argument) in zip(helper.parameters, arguments) {
            local.names[parameter] = binding(of: argument, in: scope, line: call.line)
        }
        for keyword in keywords {
            guard let name = keyword.string("arg"), helper.parameters.contains(name), let value = keyword.child("value") else {
                return .failure(Unreadable(line: call.line, construct: "a call of `\(helper.name)` with an unknown keyword"))
            }
            local.names[name] = binding(of: value, in: scope, line: call.line)
        }
        for parameter in helper.parameters where local.names[parameter] == nil {
            guard let fallback = helper.defaults[parameter] else {
                return .failure(Unreadable(line: call.line, construct: "a call of `\(helper.name)` without its `\(parameter)`"))
            }
            local.names[parameter] = fallback
        }
        switch expression(helper.body, in: local, depth: depth + 1) {
        case .success(let expression): return .success(expression)
        case .failure(let failure):
            return .failure(Unreadable(line: call.line, construct: "a call of `\(helper.name)`, whose result pgverify "
                                       + "cannot read (line \(failure.line): \(failure.construct))"))
        }
    }

    /// Helpers see module-level names, not the class body's.
    private func moduleScope(of scope: Scope) -> Scope {
        var current = scope
        while let parent = current.parent { current = parent }
        return current
    }

    // MARK: - Names bound by compound statements

    static func keyword(_ type: String) -> String {
        switch type {
        case "AsyncFor": return "async for"
        case "AsyncWith": return "async with"
        case "TryStar": return "try"
        default: return type.lowercased()
        }
    }

    /// Names a compound statement may bind in its own scope (not inside nested functions or classes).
    static func boundNames(_ statement: PyNode) -> [String] {
        var names: [String] = []
        func targets(_ node: PyNode?) {
            guard let node else { return }
            switch node.type {
            case "Name": if let name = node.string("id") { names.append(name) }
            case "Tuple", "List": node.children("elts").forEach(targets)
            case "Starred": targets(node.child("value"))
            default: break
            }
        }
        func visit(_ node: PyNode) {
            switch node.type {
            case "FunctionDef", "AsyncFunctionDef", "ClassDef":
                if let name = node.string("name") { names.append(name) }
                return
            case "Lambda", "ListComp", "SetComp", "DictComp", "GeneratorExp":
                return
            case "Assign": node.children("targets").forEach(targets)
            case "AnnAssign", "AugAssign", "For", "AsyncFor", "NamedExpr": targets(node.child("target"))
            case "withitem": targets(node.child("optional_vars"))
            case "ExceptHandler": if let name = node.string("name") { names.append(name) }
            case "Import", "ImportFrom":
                for alias in node.children("names") {
                    if let name = alias.string("asname") ?? alias.string("name")?.split(separator: ".").first.map(String.init) {
                        names.append(name)
                    }
                }
            default:
                break
            }
            for child in node.childNodes { visit(child) }
        }
        visit(statement)
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }
}
