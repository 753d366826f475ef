import Foundation

/// The per-token byte sidecar of the CaseOps records (2026-04-18_PR1626_CaseOps_Taper and later,
/// written by their `prepare_caseops_data.py`): `fineweb_val_bytes_*.bin` beside the val shards, in the
/// val shard layout (256 × int32 header, then uint16), one entry per val token: the bytes of the
/// original text that token covers (0 for BOS and the case-operator pieces). With `CASEOPS_ENABLED=1`
/// the records' `eval_val` counts a target's bytes as the sidecar entry at the target's stream position,
/// replacing the tokenizer byte tables entirely.
public enum CaseOpsByteSidecar {
    /// The records' val token shards in `directory`: `fineweb_val_*.bin` without the `_bytes_` sidecar
    /// files, which share the glob (`load_validation_tokens` filters them the same way).
    public static func tokenFiles(in directory: URL) throws(CaseOpsSidecarError) -> [URL] {
        do {
            return try ValidationShard.files(matching: directory.appendingPathComponent("fineweb_val_*.bin").path)
                .filter { !$0.lastPathComponent.contains("_bytes_") }
        } catch {
            throw .shard(error)
        }
    }

    /// The sidecar entries of `directory`'s `fineweb_val_bytes_*.bin` (name order), cut to the first
    /// `tokens` (the stream the evaluator keeps). Absent or too short: an error, never a fallback to
    /// the tokenizer tables (which count CaseOps operator pieces wrongly).
    public static func read(directory: URL, tokens: Int) throws(CaseOpsSidecarError) -> [UInt16] {
        let pattern = directory.appendingPathComponent("fineweb_val_bytes_*.bin").path
        var counts: [UInt16] = []
        do {
            counts = try ValidationShard.readAll(pattern: pattern)
        } catch .noMatch {
            throw .missing(directory: directory.path)
        } catch {
            throw .shard(error)
        }
        guard counts.count >= tokens else { throw .tooShort(entries: counts.count, tokens: tokens) }
        return Array(counts.prefix(tokens))
    }
}

/// A CaseOps byte sidecar that cannot be used.
public enum CaseOpsSidecarError: InputError, Equatable {
    case missing(directory: String)
    case tooShort(entries: Int, tokens: Int)
    case shard(ValidationShardError)

    public var description: String {
        switch self {
        case .missing(let directory):
            "\(directory): no CaseOps byte sidecar (fineweb_val_bytes_*.bin); a CaseOps tokenizer's val_bpb needs the "
                + "per-token byte counts its prepare_caseops_data.py writes beside the val shards"
        case .tooShort(let entries, let tokens):
            "the CaseOps byte sidecar has \(entries) entries, the validation stream \(tokens) tokens"
        case .shard(let error):
            "CaseOps byte sidecar: \(error.description)"
        }
    }
}
