import Foundation

/// One setting of a submission's code (an attribute of its `class Hyperparameters`, or a module-level
/// setting), read from its syntax tree without executing anything.
public struct HyperparameterDeclaration: Sendable, Equatable {
    /// The attribute name (`num_heads`).
    public var name: String
    /// The environment variable that sets it directly (`NUM_HEADS` of `int(os.environ.get("NUM_HEADS", 8))`);
    /// `nil` for a value no single variable sets (a constant, arithmetic over other settings).
    public var environmentVariable: String?
    /// What it is defined as, with references to other settings, aliases and helpers resolved.
    public var definition: SettingExpression
    /// Where the declaration is: file path and 1-based line.
    public var file: String
    public var line: Int

    /// The definition as Python text (strings double-quoted, references resolved).
    public var expression: String { definition.description }

    /// The value when its own variable holds `environment` (or is unset: `nil`) and the other variables
    /// it reads hold `others`, or `nil` where Python would raise.
    public func value(environment: String? = nil, others: [String: String] = [:]) -> HyperparameterValue? {
        var variables = others
        if let variable = environmentVariable {
            variables[variable] = environment
        }
        return definition.value(environment: variables)
    }

    /// Environment variables other than its own that its value depends on.
    public var otherVariables: [String] {
        var seen: Set<String> = environmentVariable.map { [$0] } ?? []
        return definition.environmentVariables.filter { seen.insert($0).inserted }
    }
}

/// A setting the code assigns in a form pgverify does not evaluate.
public struct UnreadableSetting: Sendable, Equatable {
    /// 1-based line of the statement.
    public var line: Int
    /// What could not be read ("a call of `_e`, …").
    public var construct: String
}

/// The settings of a training script (``HyperparameterReader``): those read, and those assigned in a form
/// pgverify does not evaluate (so a missing value can say why).
public struct HyperparameterDefaults: Sendable, Equatable {
    public var declarations: [String: HyperparameterDeclaration]
    /// Settings assigned with a form we do not evaluate, with their line and construct.
    public var unreadable: [String: UnreadableSetting]
    /// Whether the file had a `class Hyperparameters` at all.
    public var foundClass: Bool
    /// The file parsed, `nil` when there was no code.
    public var file: String?
    /// Why the file's tree could not be read at all (a syntax error, no Python), naming file and line.
    public var refusal: String?

    public init(declarations: [String: HyperparameterDeclaration] = [:], unreadable: [String: UnreadableSetting] = [:],
                foundClass: Bool = false, file: String? = nil, refusal: String? = nil) {
        self.declarations = declarations
        self.unreadable = unreadable
        self.foundClass = foundClass
        self.file = file
        self.refusal = refusal
    }

    /// Reads `source` (the text of `file`) through the shared syntax tree (``SubmissionSyntaxTree``).
    public static func parse(source: String, file: String) -> HyperparameterDefaults {
        do {
            return HyperparameterReader.read(module: try SubmissionSyntaxTree.tree(source, file: file), file: file)
        } catch {
            return HyperparameterDefaults(file: file, refusal: error.description)
        }
    }

    /// Records `name` as read (`binding` a value) or unreadable; bindings that are not values (helpers,
    /// conversions) are not settings. A module-level setting never replaces the class's.
    mutating func add(name: String, binding: HyperparameterReader.Binding, file: String, line: Int, moduleLevel: Bool) {
        switch binding {
        case .value(let expression):
            declarations[name] = HyperparameterDeclaration(
                name: name, environmentVariable: expression.primaryVariable, definition: expression, file: file, line: line)
            unreadable[name] = nil
        case .unreadable(let failure):
            if moduleLevel { return }
            unreadable[name] = UnreadableSetting(line: failure.line, construct: failure.construct)
            declarations[name] = nil
        default:
            if !moduleLevel { declarations[name] = nil }
        }
    }

    /// The text logs or overrides give the variables `declaration` reads besides its own (a default
    /// built from another setting follows that setting's value in the run).
    func statedEnvironment(of declaration: HyperparameterDeclaration, overrides: [String: String],
                           logged: [LoggedHyperparameter]) -> [String: String] {
        var environment: [String: String] = [:]
        for variable in declaration.otherVariables {
            let attribute = declarations.values.first { $0.environmentVariable == variable }?.name ?? variable.lowercased()
            if let text = overrides.first(where: { $0.key == variable || $0.key.lowercased() == attribute })?.value {
                environment[variable] = text
            } else if let entry = logged.first(where: { $0.key == variable || $0.key == attribute }) {
                environment[variable] = entry.text
            }
        }
        return environment
    }

    /// Why `name` is unreadable, naming file, line and construct; `nil` when it is not.
    func unreadableDetail(_ name: String) -> String? {
        if let refusal { return "the code cannot be read (\(refusal))" }
        guard let failure = unreadable[name] else { return nil }
        return "its declaration at \(file ?? "?"):\(failure.line) is \(failure.construct), which pgverify does not evaluate"
    }
}

/// The syntax tree of a code file, parsed once per text by CPython's `ast` (``PythonParser``) and shared
/// by everything that reads the code (settings, evaluation procedures, the model).
enum SubmissionSyntaxTree {
    nonisolated(unsafe) private static var cache: [String: PyNode] = [:]
    nonisolated(unsafe) private static var order: [String] = []
    private static let lock = NSLock()
    /// Runs parse a handful of files; a few more are kept for tests that read many.
    static let capacity = 16

    /// The module tree of `source`; throws a ``ModelConfigError/unreadable(file:reason:)`` naming the
    /// file (and line, for a syntax error).
    static func tree(_ source: String, file: String) throws(ModelConfigError) -> PyNode {
        lock.lock()
        let cached = cache[source]
        lock.unlock()
        if let cached { return cached }
        let tree: PyNode
        do {
            guard let parsed = try ArchitectureConformance.cachedParser().parse([.source(name: file, text: source)]).first else {
                throw ModelConfigError.unreadable(file: file, reason: "the Python parser returned no tree")
            }
            tree = parsed
        } catch let error as ModelConfigError {
            throw error
        } catch {
            throw .unreadable(file: file, reason: "\(error)")
        }
        lock.lock()
        if cache[source] == nil {
            cache[source] = tree
            order.append(source)
            if order.count > capacity { cache[order.removeFirst()] = nil }
        }
        lock.unlock()
        return tree
    }
}
