import Testing
@testable import Verifier

@Suite struct MetadataClaimsTests {
    func claims(_ json: String) throws -> [Claim] {
        let value = try JSONValue.parse(Array(json.utf8), file: "submission.json")
        return MetadataClaims.claims(from: SubmissionMetadata(name: "submission.json", json: value))
    }

    @Test func perSeedResultsCarryTheirSeed() throws {
        let found = try claims("""
            {"val_bpb": 1.0835, "seeds": [1337, 42],
             "seed_results": {"1337": {"val_bpb": 1.083, "artifact_bytes": 15976275},
                              "42": {"val_bpb": 1.084, "eval_time_ms": 500104}},
             "compliance": {"eval_time_max_s": 525.6},
             "compliance_rerun": {"seed_results": {"42": {"val_bpb": 1.0608}}}}
            """)
        let mean = found.first { $0.source == .jsonKey(file: "submission.json", path: "val_bpb") }
        #expect(mean?.aggregate == .mean)
        #expect(found.filter { $0.kind == .seed }.map(\.seed) == [1337, 42])
        let total = found.first { $0.kind == .totalBytes }
        #expect(total?.seed == 1337)
        #expect(total?.source == .jsonKey(file: "submission.json", path: "seed_results.1337.artifact_bytes"))
        #expect(found.first { $0.kind == .evalSeconds && $0.seed == 42 }?.value.double == 500.104)
        #expect(found.first { $0.kind == .evalSeconds && $0.aggregate == .max }?.qualifier == "compliance")
        let rerun = found.first { $0.source == .jsonKey(file: "submission.json", path: "compliance_rerun.seed_results.42.val_bpb") }
        #expect(rerun?.qualifier == "compliance_rerun")
        #expect(rerun?.seed == 42)
    }

    /// `d0752a0fc021`: results under `seed_<N>` members are seed N's; `seed1`, `seed2` number runs and are not read as seeds.
    @Test func seedNamedMembersCarryTheirSeed() throws {
        let found = try claims("""
            {"seed_444": {"val_bpb": 1.1354, "bytes_total": 15902698}, "seed_4": {"val_bpb": 1.1354},
             "results": {"seed_42": {"val_bpb": 1.13}}, "warm_cache": {"seed_7": {"val_bpb": 1.12}},
             "runs": {"seed1": {"val_bpb": 1.2}}, "val_bpb": 1.1364}
            """)
        let seed444 = found.first { $0.source == .jsonKey(file: "submission.json", path: "seed_444.val_bpb") }
        #expect(seed444?.seed == 444)
        #expect(seed444?.qualifier == nil)
        #expect(found.first { $0.kind == .totalBytes }?.seed == 444)
        let underResults = found.first { $0.source == .jsonKey(file: "submission.json", path: "results.seed_42.val_bpb") }
        #expect(underResults?.seed == 42)
        #expect(underResults?.qualifier == nil)
        let warmCache = found.first { $0.source == .jsonKey(file: "submission.json", path: "warm_cache.seed_7.val_bpb") }
        #expect(warmCache?.seed == 7)
        #expect(warmCache?.qualifier == "warm_cache")
        let numbered = found.first { $0.source == .jsonKey(file: "submission.json", path: "runs.seed1.val_bpb") }
        #expect(numbered?.seed == nil)
        #expect(found.first { $0.source == .jsonKey(file: "submission.json", path: "val_bpb") }?.aggregate == .mean)
    }

    /// `619fa294b2da`: `total_submission_bytes` and `model_bytes` are the submission's total and compressed model sizes.
    @Test func submissionAndModelByteSpellings() throws {
        let found = try claims(#"{"model_bytes": 15094152, "code_bytes": 104955, "total_submission_bytes": 15199107}"#)
        #expect(found.map(\.kind) == [.modelBytes, .codeBytes, .totalBytes])
        #expect(found.map { $0.value.integer } == [15094152, 104955, 15199107])
    }

    @Test func keySpellingsAcrossRecords() throws {
        let found = try claims("""
            {"bytes_total": 15863489, "bytes_code": 47642, "code_bytes": 50651, "bytes_model_int6_zstd": 15827986,
             "artifact_bytes_max": 15984850, "mean_val_bpb": 1.17475315, "val_loss": 2.0727, "track": "10min_16mb",
             "eval_method": "sliding_window", "eval_stride": 64, "p_value": "<0.001", "name": "x"}
            """)
        #expect(found.map(\.kind) == [.totalBytes, .codeBytes, .codeBytes, .modelBytes, .totalBytes, .valBPB, .valLoss,
                                      .track, .evalMode, .evalStride])
        #expect(found.first { $0.kind == .modelBytes }?.value.integer == 15827986)
        #expect(found.first { $0.kind == .valBPB }?.aggregate == .mean)
        #expect(found.first { $0.aggregate == .max }?.kind == .totalBytes)
        #expect(found.first { $0.kind == .valLoss }?.aggregate == nil)
    }
}
