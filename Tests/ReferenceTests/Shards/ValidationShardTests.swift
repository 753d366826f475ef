import Foundation
import Testing
@testable import Reference

/// `fixtures/shards/val_spotchecks.json`, written by `tools/tokenizer_goldens.py` with the challenge's
/// own `load_data_shard`.
private struct ShardSpotChecks: Decodable {
    struct Shard: Decodable {
        var file: String
        var token_count: Int
        var first_tokens: [UInt16]
        var last_tokens: [UInt16]
        var tokens_at: [String: UInt16]
        var token_sum: Int
        var bos_count: Int
    }

    var shards: [Shard]

    static func load() throws -> ShardSpotChecks {
        try JSONDecoder().decode(Self.self, from: Data(contentsOf: Paths.fixture("shards/val_spotchecks.json")))
    }
}

@Suite("Validation shards in the challenge's format")
struct ValidationShardTests {
    @Test("the shared val shards read as the baseline's loader reads them")
    func sharedShardsMatchBaselineLoader() throws {
        for golden in try ShardSpotChecks.load().shards {
            let tokens = try ValidationShard.read(Paths.shared(golden.file))
            #expect(tokens.count == golden.token_count, "\(golden.file)")
            #expect(Array(tokens.prefix(golden.first_tokens.count)) == golden.first_tokens)
            #expect(Array(tokens.suffix(golden.last_tokens.count)) == golden.last_tokens)
            for (offset, token) in golden.tokens_at {
                let index = try #require(Int(offset))
                #expect(tokens[index] == token, "\(golden.file) token \(index)")
            }
            #expect(tokens.reduce(0) { $0 + Int($1) } == golden.token_sum)
            #expect(tokens.filter { $0 == 1 }.count == golden.bos_count)
        }
    }

    @Test("the small shard is the big shard's first 65,537 tokens")
    func smallShardIsPrefix() throws {
        let small = try ValidationShard.read(Paths.shared("val/small/fineweb_val_000000.bin"))
        let full = try ValidationShard.readAll(pattern: Paths.shared("val/fineweb_val_*.bin").path)
        #expect(small.count == 65_537)
        #expect(full.count == 2_004_373)
        #expect(Array(full.prefix(small.count)) == small)
    }

    @Test("a glob concatenates its shards in name order")
    func globConcatenatesInNameOrder() throws {
        let pattern = Paths.fixture("shards/tiny_val_*.bin").path
        #expect(try ValidationShard.files(matching: pattern).map(\.lastPathComponent)
                == ["tiny_val_000000.bin", "tiny_val_000001.bin"])
        #expect(try ValidationShard.readAll(pattern: pattern) == [1, 2, 3, 4, 5, 6, 7, 8, 65535])
    }

    @Test("a pattern matching nothing is a typed error")
    func noMatch() {
        let pattern = Paths.fixture("shards/nothing_*.bin").path
        #expect(throws: ValidationShardError.noMatch(pattern: pattern)) {
            try ValidationShard.readAll(pattern: pattern)
        }
    }

    @Test("a wrong magic is refused at byte 0")
    func badMagic() {
        let url = Paths.fixture("shards/bad_magic.bin")
        #expect(throws: ValidationShardError.badMagic(InputLocation(file: url.path, offset: 0), found: 20_240_521)) {
            try ValidationShard.read(url)
        }
    }

    @Test("a wrong version is refused at byte 4")
    func badVersion() {
        let url = Paths.fixture("shards/bad_version.bin")
        #expect(throws: ValidationShardError.badVersion(InputLocation(file: url.path, offset: 4), found: 2)) {
            try ValidationShard.read(url)
        }
    }

    @Test("a file shorter than the header is refused")
    func truncatedHeader() {
        let url = Paths.fixture("shards/truncated_header.bin")
        #expect(throws: ValidationShardError.truncatedHeader(InputLocation(file: url.path, offset: 100), size: 100)) {
            try ValidationShard.read(url)
        }
    }

    @Test("a size that disagrees with the header's token count is refused")
    func sizeMismatch() {
        let url = Paths.fixture("shards/size_mismatch.bin")
        let expected = ValidationShardError.sizeMismatch(
            InputLocation(file: url.path, offset: 8), tokenCount: 10, expectedBytes: 1044, actualBytes: 1036)
        #expect(throws: expected) { try ValidationShard.read(url) }
        #expect(expected.description.contains("size_mismatch.bin: at byte 8"))
    }

    @Test("a negative token count is refused")
    func negativeCount() throws {
        var header = [Int32](repeating: 0, count: 256)
        header[0] = ValidationShard.magic
        header[1] = ValidationShard.version
        header[2] = -3
        let bytes = header.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-negative-\(UUID()).bin")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: ValidationShardError.negativeTokenCount(InputLocation(file: url.path, offset: 8), count: -3)) {
            try ValidationShard.read(url)
        }
    }

    @Test("a missing file is a typed error naming it")
    func missingFile() {
        #expect {
            try ValidationShard.read(URL(fileURLWithPath: "/nonexistent/val.bin"))
        } throws: { error in
            guard case let .unreadable(file, _) = error as? ValidationShardError else { return false }
            return file == "/nonexistent/val.bin"
        }
    }
}
