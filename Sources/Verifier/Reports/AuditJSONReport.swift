/// The whole audit as JSON (schema: `schemas/audit.schema.json`). Members are in a fixed order and
/// numbers are printed the same way every time, so the same inputs give the same bytes.
extension AuditReport {
    /// The version of `schemas/audit.schema.json` this output follows.
    public static let schemaVersion = 1

    public var json: JSONValue {
        .object([
            ("schema_version", .integer(AuditReport.schemaVersion)),
            ("tool", .string("pgverify")),
            ("subject", .string(subject)),
            ("verdict", .object([
                ("outcome", .string(verdict.outcome.rawValue)),
                ("exit_code", .integer(Int(verdict.exitStatus.rawValue))),
                ("reasons", .array(verdict.reasons.map(JSONValue.string))),
            ])),
            ("quick", .bool(quick)),
            ("checks", .array(checks.map(\.json))),
            ("runs", .array(runs.map(\.json))),
            ("previous_record", previousRecord.map { record in
                .object([
                    ("source", .string(record.source)),
                    ("val_loss", .array(record.valLosses.map(JSONValue.double))),
                ])
            } ?? .null),
            ("size", size.json),
        ])
    }
}

extension AuditLocation {
    var json: JSONValue {
        .object([
            ("file", .string(file)),
            ("line", line.map(JSONValue.integer) ?? .null),
            ("key_path", keyPath.map(JSONValue.string) ?? .null),
        ])
    }
}

extension AuditCheck {
    var json: JSONValue {
        .object([
            ("id", .string(id)),
            ("title", .string(title)),
            ("status", .string(status.rawValue)),
            ("severity", .string(severity.rawValue)),
            ("summary", .string(summary)),
            ("evidence", .array(evidence.map { item in
                .object([("text", .string(item.text)), ("location", item.location?.json ?? .null)])
            })),
            ("findings", .array(findings.map(\.json))),
            ("measurements", .array(measurements.map { measurement in
                .object([
                    ("name", .string(measurement.name)),
                    ("value", .double(measurement.value)),
                    ("unit", .string(measurement.unit)),
                    ("seed", measurement.seed.map(JSONValue.integer) ?? .null),
                    ("location", measurement.location?.json ?? .null),
                ])
            })),
            ("series", .array(series.map { series in
                .object([
                    ("name", .string(series.name)),
                    ("points", .array(series.points.map { .array([.double($0.x), .double($0.y)]) })),
                ])
            })),
        ])
    }
}

extension AuditFinding {
    /// `{rule, severity, file, line, message}`: the same members as `verify lint --format json` findings.
    public var json: JSONValue {
        .object([
            ("rule", .string(rule)),
            ("severity", .string(severity.rawValue)),
            ("file", file.map(JSONValue.string) ?? .null),
            ("line", line.map(JSONValue.integer) ?? .null),
            ("message", .string(message)),
        ])
    }
}

extension RunResult {
    var json: JSONValue {
        func claim(_ claim: Claim?) -> JSONValue {
            guard let claim, let value = claim.value.double else { return .null }
            return .object([
                ("value", .double(value)),
                ("literal", .string(claim.value.description)),
                ("source", AuditLocation(claim.source).json),
            ])
        }
        return .object([
            ("log", .string(log)),
            ("seed", seed.map(JSONValue.integer) ?? .null),
            ("val_bpb", claim(valBPB)),
            ("val_loss", claim(valLoss)),
            ("train_seconds", claim(trainSeconds)),
            ("eval_seconds", claim(evalSeconds)),
        ])
    }
}
