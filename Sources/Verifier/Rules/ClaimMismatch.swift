import Foundation

/// PG-CLAIM-MISMATCH — the README or submission.json states a hyperparameter value that the
/// code's default contradicts, and no launch command in the README sets it.
///
/// ## What it flags
/// A value claimed outside code blocks (`SWA_EVERY=25` in prose, a `| swa_every | 25 |` table
/// row) or as a numeric field of submission.json, for a name the code reads with
/// `os.environ.get(NAME, default)` (also `os.getenv`, either under an alias; through a helper
/// that reads the name its caller passes, `env_int("NUM_LAYERS", 9)`; a default that is a
/// module-level name bound once to a literal), when the claim differs from the default and no
/// command in the README (a fenced block, a `torchrun`/`python` line, a line ending in `\`)
/// sets `NAME=`. Mutations: `fixtures/lint/mutations/PG-CLAIM-MISMATCH/<NN>-<form>/`.
///
/// ## Why
/// A reviewer reproducing the run with the documented command gets the code's default, not the
/// described configuration; the reported score then belongs to a different run.
///
/// ## Source
/// README (records must be reproducible); the Copilot review on the QAT_BigramHash12K PR (#485
/// family) that caught SWA every 25 in the README vs 50 in the code (compliance guide §3.7).
///
/// ## Legal example
/// README table `| swa_every | 50 |` with `swa_every = int(os.environ.get("SWA_EVERY", 50))`, or
/// a launch command `SWA_EVERY=25 torchrun ...`.
///
/// ## Illegal example (warning)
/// README prose "SWA every 25 steps (SWA_EVERY=25)" with a default of 50 and no command setting it.
public enum ClaimMismatch: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-CLAIM-MISMATCH", name: "claim-mismatch", severity: .warning,
        summary: "README/submission.json states a hyperparameter value that the code default contradicts.",
        source: "README (reproducible records); review of the QAT_BigramHash12K PR (SWA_EVERY 25 vs 50)")

    /// Launch-time variables that legitimately differ per run (seeds are listed per run) or
    /// collide with unrelated JSON fields (`rank` of a LoRA vs the process `RANK`).
    static let perRunVariables: Set<String> = ["SEED", "RUN_ID", "RANK", "WORLD_SIZE", "LOCAL_RANK", "DATA_PATH", "DATA_DIR"]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        // Claims describe the submission's main script; decoded code is checked like its file.
        let defaults = source.environmentDefaults
            + EnvironmentDefault.findIndirect(in: source.tree, nodes: source.nodes, aliases: source.analysis.index.aliases)
        guard !defaults.isEmpty else { return [] }
        var byName: [String: EnvironmentDefault] = [:]
        for setting in defaults where byName[setting.name] == nil { byName[setting.name] = setting }
        let claims = StatedHyperparameterClaims(readme: source.documents.readme ?? "", json: source.documents.submissionJSON)
        var findings: [Finding] = []
        for claim in claims.values.sorted(by: { ($0.key, $0.value) < ($1.key, $1.value) }) {
            guard !perRunVariables.contains(claim.key), let setting = byName[claim.key], !claims.commandSet.contains(claim.key),
                  let claimed = Double(claim.value), let actual = setting.number,
                  abs(claimed - actual) > 1e-9 * max(1, abs(actual)) else { continue }
            findings.append(finding(source, line: setting.line,
                "\(claim.where) says \(claim.key)=\(claim.value) but the code defaults to \(setting.value) " +
                "and no launch command in the README sets it"))
        }
        return findings
    }
}

/// Hyperparameter values a README/submission.json states, and the names its commands set.
struct StatedHyperparameterClaims {
    struct Claim: Hashable {
        var key: String
        var value: String
        var `where`: String
    }

    var values: Set<Claim> = []
    var commandSet: Set<String> = []

    init(readme: String, json: String?) {
        var inFence = false
        let assignment = try? NSRegularExpression(pattern: #"\b([A-Z][A-Z0-9_]{2,})=([-+]?[0-9][0-9_.eE+-]*)"#)
        let tableRow = try? NSRegularExpression(pattern: #"^\|\s*`?([A-Za-z][A-Za-z0-9_]{2,})`?\s*\|\s*`?([-+]?[0-9][0-9.eE+-]*)`?\s*\|"#)
        for rawLine in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle(); continue }
            let range = NSRange(line.startIndex..., in: line)
            let matches = assignment?.matches(in: line, range: range) ?? []
            let isCommand = inFence || line.contains("torchrun") || line.contains("python ") || line.hasSuffix("\\")
            for match in matches {
                guard let key = Range(match.range(at: 1), in: line).map({ String(line[$0]) }),
                      var value = Range(match.range(at: 2), in: line).map({ String(line[$0]) }) else { continue }
                // A sentence's full stop is not part of the number (`SCALAR_LR=3e-4.`).
                while value.hasSuffix(".") { value.removeLast() }
                if isCommand { commandSet.insert(key) } else { values.insert(Claim(key: key, value: value, where: "README")) }
            }
            if !isCommand, let match = tableRow?.firstMatch(in: line, range: range),
               let key = Range(match.range(at: 1), in: line).map({ String(line[$0]).uppercased() }),
               let value = Range(match.range(at: 2), in: line).map({ String(line[$0]) }) {
                values.insert(Claim(key: key, value: value, where: "README table"))
            }
        }
        if let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] {
            for (key, value) in object {
                guard let number = value as? NSNumber else { continue }
                values.insert(Claim(key: key.uppercased(), value: number.stringValue, where: "submission.json"))
            }
        }
    }
}
