@testable import Verifier

/// A validator for the subset of JSON Schema (2020-12) that `schemas/audit.schema.json` uses:
/// `type` (a name or a list), `enum`, `required`, `properties`, `additionalProperties: false`,
/// `items`, and local `$ref`s to `#/$defs/...`. Anything else in a schema is reported as unsupported,
/// so the schema cannot silently use a keyword this validator ignores.
struct JSONSchemaSubset {
    let root: JSONValue
    static let supported: Set<String> = [
        "$schema", "$id", "title", "description", "type", "enum", "required", "properties",
        "additionalProperties", "items", "$ref", "$defs",
    ]

    /// Every violation, as `path: problem`; empty when `value` conforms.
    func validate(_ value: JSONValue) -> [String] {
        var errors: [String] = []
        check(value, against: root, path: "$", errors: &errors)
        return errors
    }

    private func resolve(_ schema: JSONValue, errors: inout [String]) -> JSONValue {
        guard case .string(let reference)? = schema["$ref"] else { return schema }
        guard reference.hasPrefix("#/$defs/"), let target = root["$defs"]?[String(reference.dropFirst(8))] else {
            errors.append("unresolvable $ref \(reference)")
            return .object([])
        }
        return target
    }

    private static func typeName(_ value: JSONValue) -> [String] {
        switch value {
        case .object: return ["object"]
        case .array: return ["array"]
        case .string: return ["string"]
        case .bool: return ["boolean"]
        case .null: return ["null"]
        case .number(let literal):
            let isInteger = !literal.contains(".") && !literal.lowercased().contains("e")
            return isInteger ? ["integer", "number"] : ["number"]
        }
    }

    private func check(_ value: JSONValue, against rawSchema: JSONValue, path: String, errors: inout [String]) {
        let schema = resolve(rawSchema, errors: &errors)
        guard case .object(let members) = schema else { errors.append("\(path): schema is not an object"); return }
        for member in members where !Self.supported.contains(member.key) {
            errors.append("\(path): unsupported schema keyword \(member.key)")
        }
        if let type = schema["type"] {
            let allowed: [String]
            switch type {
            case .string(let name): allowed = [name]
            case .array(let names): allowed = names.compactMap { if case .string(let n) = $0 { return n } else { return nil } }
            default: allowed = []
            }
            if !Self.typeName(value).contains(where: allowed.contains) {
                errors.append("\(path): \(Self.typeName(value)[0]) is not \(allowed.joined(separator: "|"))")
                return
            }
        }
        if case .array(let options)? = schema["enum"], !options.contains(value) {
            errors.append("\(path): \(value.rendered()) is not one of \(JSONValue.array(options).rendered())")
        }
        if case .object(let object) = value {
            if case .array(let required)? = schema["required"] {
                for case .string(let key) in required where !object.contains(where: { $0.key == key }) {
                    errors.append("\(path): missing required member \(key)")
                }
            }
            let properties = schema["properties"]
            for member in object {
                if let property = properties?[member.key] {
                    check(member.value, against: property, path: "\(path).\(member.key)", errors: &errors)
                } else if schema["additionalProperties"] == .bool(false) {
                    errors.append("\(path): unexpected member \(member.key)")
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                check(element, against: items, path: "\(path)[\(index)]", errors: &errors)
            }
        }
    }
}
