/// Machine- and human-readable forms of a ``SizeReport``.
extension SizeReport {
    /// The exit status the report ends a command with: 0 pass, 1 fail, 3 incomplete.
    public var exitStatus: ExitStatus {
        switch status {
        case .pass: return .pass
        case .fail: return .fail
        case .incomplete: return .incomplete
        }
    }

    /// The report as JSON. `ok` is `true` (pass), `false` (fail) or `null` (incomplete: not established).
    public var json: JSONValue {
        func optional(_ value: Int?) -> JSONValue { value.map(JSONValue.integer) ?? .null }
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let ok: JSONValue = status == .pass ? .bool(true) : status == .fail ? .bool(false) : .null
        return .object([
            ("code_bytes", optional(codeBytes)),
            ("model_bytes", optional(modelBytes)),
            ("total_bytes", optional(totalBytes)),
            ("limit", .integer(SizeReport.limit)),
            ("ok", ok),
            ("status", .string(status.rawValue)),
            ("measured", .object([
                ("code_file", optional(codeFile)),
                ("artifact_file", optional(artifactFile)),
                ("model_bytes_measured", .bool(modelBytes != nil)),
            ])),
            ("findings", .array(findings.map { finding in
                .object([
                    ("id", .string(finding.id.rawValue)),
                    ("severity", .string(finding.severity.rawValue)),
                    ("message", .string(finding.message)),
                ])
            })),
            ("mismatches", .array(mismatches.map { mismatch in
                .object([
                    ("quantity", .string(mismatch.quantity.rawValue)),
                    ("expected", .integer(mismatch.expected)),
                    ("expected_source", .string(mismatch.expectedSource)),
                    ("expected_is_measured", .bool(mismatch.expectedIsMeasured)),
                    ("claimed", .integer(mismatch.claimed)),
                    ("claim_source", .string(mismatch.claimSource.description)),
                    ("severity", .string(mismatch.severity.rawValue)),
                ])
            })),
            ("claims", .array(claims.map(\.json))),
        ])
    }

    /// A plain-text summary: the figures, the verdict, then findings and the claims compared.
    public var text: String {
        func show(_ value: Int?) -> String { value.map { "\($0) bytes" } ?? "not measured" }
        var lines: [String] = []
        lines.append("code:   \(show(codeBytes))\(codeFile.map { " (\($0))" } ?? "")")
        lines.append("model:  \(show(modelBytes))\(artifactFile.map { " (\($0))" } ?? "")")
        lines.append("total:  \(show(totalBytes))")
        lines.append("limit:  \(SizeReport.limit) bytes")
        lines.append("result: \(status.rawValue.uppercased())")
        if !findings.isEmpty {
            lines.append("")
            lines.append("findings:")
            for finding in findings {
                lines.append("  [\(finding.severity.rawValue)] \(finding.id.rawValue): \(finding.message)")
            }
        }
        if !claims.isEmpty {
            lines.append("")
            lines.append("claims compared:")
            for claim in claims {
                var line = "  \(claim.kind.rawValue) = \(claim.value)"
                if let qualifier = claim.qualifier { line += " [\(qualifier)]" }
                if let seed = claim.seed { line += " seed \(seed)" }
                if let aggregate = claim.aggregate { line += " (\(aggregate.rawValue))" }
                lines.append(line + "  <- \(claim.source)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension Claim {
    /// The claim as a JSON object: kind, value (number or text), literal, seed, aggregate, qualifier, source.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("kind", .string(kind.rawValue))]
        switch value {
        case .number(let number, let literal):
            members.append(("value", .double(number)))
            members.append(("literal", .string(literal)))
        case .text(let text):
            members.append(("value", .string(text)))
        }
        members.append(("seed", seed.map(JSONValue.integer) ?? .null))
        members.append(("aggregate", aggregate.map { .string($0.rawValue) } ?? .null))
        members.append(("qualifier", qualifier.map(JSONValue.string) ?? .null))
        members.append(("source", .string(source.description)))
        return .object(members)
    }
}
