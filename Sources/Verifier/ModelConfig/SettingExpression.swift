import Foundation

/// What a setting of the code is defined as, read from its syntax tree (never run): literals, reads of
/// environment variables, `int`/`float`/`bool`/`str` conversions and arithmetic over them. References to
/// other settings, helpers and aliases are resolved while reading (``HyperparameterReader``), so an
/// expression only depends on the environment.
public indirect enum SettingExpression: Sendable, Equatable, CustomStringConvertible {
    /// A conversion Python applies: `int(x)`, `float(x)`, `bool(x)`, `str(x)`.
    public enum Conversion: String, Sendable, Equatable {
        case int, float, bool, str
    }

    /// An arithmetic operator over numbers (`+` also joins strings).
    public enum Operator: String, Sendable, Equatable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    }

    case literal(HyperparameterValue)
    /// `os.environ.get(variable, fallback)`: the variable's text when set, else the fallback (`nil`: no
    /// default, so Python's `None`, which no setting pgverify reads may take).
    case environment(variable: String, fallback: SettingExpression?)
    case convert(Conversion, SettingExpression)
    case binary(Operator, SettingExpression, SettingExpression)
    case negate(SettingExpression)

    /// The value when the environment holds `environment` (variables absent are unset), or `nil` where
    /// Python would raise (or give `None`).
    public func value(environment: [String: String]) -> HyperparameterValue? {
        switch self {
        case .literal(let value):
            return value
        case .environment(let variable, let fallback):
            if let text = environment[variable] { return .string(text) }
            return fallback?.value(environment: environment)
        case .convert(let conversion, let operand):
            guard let value = operand.value(environment: environment) else { return nil }
            switch conversion {
            case .int: return value.pythonInt().map { .int($0) }
            case .float: return value.pythonFloat().map { .float($0) }
            case .bool: return .bool(value.pythonBool())
            case .str: return .string(value.pythonString)
            }
        case .negate(let operand):
            switch operand.value(environment: environment) {
            case .int(let number)?: return number == .min ? nil : .int(-number)
            case .float(let number)?: return .float(-number)
            case .bool(let flag)?: return .int(flag ? -1 : 0)
            default: return nil
            }
        case .binary(let op, let left, let right):
            guard let lhs = left.value(environment: environment), let rhs = right.value(environment: environment) else {
                return nil
            }
            return Self.apply(op, lhs, rhs)
        }
    }

    /// Every environment variable the expression reads, in reading order.
    public var environmentVariables: [String] {
        switch self {
        case .literal: return []
        case .environment(let variable, let fallback): return [variable] + (fallback?.environmentVariables ?? [])
        case .convert(_, let operand), .negate(let operand): return operand.environmentVariables
        case .binary(_, let left, let right): return left.environmentVariables + right.environmentVariables
        }
    }

    /// The variable that sets the value directly: the one read under the conversions only
    /// (`bool(int(os.environ.get("X", ...)))` is set by `X`), else `nil`.
    public var primaryVariable: String? {
        switch self {
        case .environment(let variable, _): return variable
        case .convert(_, let operand): return operand.primaryVariable
        default: return nil
        }
    }

    /// Python text of the expression, with the references and helpers it was read through resolved.
    public var description: String {
        switch self {
        case .literal(let value):
            if case .string(let text) = value { return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            return value.description
        case .environment(let variable, let fallback):
            let name = "\"" + variable + "\""
            return "os.environ.get(" + (fallback.map { name + ", " + $0.description } ?? name) + ")"
        case .convert(let conversion, let operand):
            return conversion.rawValue + "(" + operand.description + ")"
        case .negate(let operand):
            return "-" + operand.parenthesised
        case .binary(let op, let left, let right):
            return left.parenthesised + " " + op.rawValue + " " + right.parenthesised
        }
    }

    private var parenthesised: String {
        switch self {
        case .binary, .negate: return "(" + description + ")"
        default: return description
        }
    }

    /// Python's arithmetic on two values, `nil` where it raises, overflows pgverify's integers or
    /// mixes types Python would refuse.
    static func apply(_ op: Operator, _ lhs: HyperparameterValue, _ rhs: HyperparameterValue) -> HyperparameterValue? {
        if case .string(let a) = lhs, case .string(let b) = rhs { return op == .add ? .string(a + b) : nil }
        if case .string = lhs { return nil }
        if case .string = rhs { return nil }
        let integers = lhs.isIntegral && rhs.isIntegral
        if integers, let a = lhs.pythonInt(), let b = rhs.pythonInt() {
            switch op {
            case .add: return checked(a.addingReportingOverflow(b))
            case .subtract: return checked(a.subtractingReportingOverflow(b))
            case .multiply: return checked(a.multipliedReportingOverflow(by: b))
            case .divide: return b == 0 ? nil : .float(Double(a) / Double(b))
            case .floorDivide:
                guard b != 0, !(a == .min && b == -1) else { return nil }
                let quotient = a / b
                return .int((a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient)
            case .modulo:
                guard b != 0 else { return nil }
                let remainder = a % b
                return .int(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
            case .power:
                guard b >= 0 else { return .float(pow(Double(a), Double(b))) }
                var result = 1
                for _ in 0..<min(b, 64) {
                    guard case .int(let next)? = checked(result.multipliedReportingOverflow(by: a)) else { return nil }
                    result = next
                }
                return b > 64 && a.magnitude > 1 ? nil : .int(result)
            }
        }
        guard let a = lhs.pythonFloat(), let b = rhs.pythonFloat() else { return nil }
        switch op {
        case .add: return .float(a + b)
        case .subtract: return .float(a - b)
        case .multiply: return .float(a * b)
        case .divide: return b == 0 ? nil : .float(a / b)
        case .floorDivide: return b == 0 ? nil : .float((a / b).rounded(.down))
        case .modulo:
            guard b != 0 else { return nil }
            let remainder = a.truncatingRemainder(dividingBy: b)
            return .float(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
        case .power: return .float(pow(a, b))
        }
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) -> HyperparameterValue? {
        result.overflow ? nil : .int(result.partialValue)
    }
}

extension HyperparameterValue {
    /// `int` and `bool` take part in integer arithmetic.
    var isIntegral: Bool {
        switch self {
        case .int, .bool: return true
        default: return false
        }
    }

    /// Python's `str(value)`.
    var pythonString: String {
        switch self {
        case .string(let text): return text
        default: return description
        }
    }
}
