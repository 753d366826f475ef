import Foundation
import Testing
@testable import Reference

@Suite struct RawFloatWeightsTests {
    @Test func readsTheFixtureWithItsConfig() throws {
        let raw = try RawFloatWeights(contentsOf: Paths.fixture("eval/tiny.weights.json"))
        #expect(raw.seqLen == 64)
        #expect(raw.config?.vocabSize == 1030 && raw.config?.tieEmbeddings == false && raw.config?.mlpHidden == 48)
        #expect(raw.weights["lm_head.weight"]?.shape == [1030, 24])
        #expect(raw.weights.count == 3 * 10 + 3)
    }

    static func write(index: String, blob: [UInt8]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rawf32-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(blob).write(to: folder.appendingPathComponent("w.f32"))
        let url = folder.appendingPathComponent("w.json")
        try Data(index.utf8).write(to: url)
        return url
    }

    @Test func tensorPastTheEndOfTheBlobIsRefused() throws {
        let url = try Self.write(index: """
            {"format":"pgverify-raw-f32","version":1,"blob":"w.f32","tensors":[{"name":"a","shape":[2,2],"offset":4}]}
            """, blob: [UInt8](repeating: 0, count: 16))
        #expect(throws: RawFloatWeightsError.self) { try RawFloatWeights(contentsOf: url) }
        do { _ = try RawFloatWeights(contentsOf: url) } catch {
            guard case .badTensor(let location, let name, _) = error else { Issue.record("\(error)"); return }
            #expect(name == "a" && location.offset == 4)
        }
    }

    @Test func hostileShapesAndFormatsAreRefused() throws {
        for index in [
            #"{"format":"pgverify-raw-f32","version":1,"blob":"w.f32","tensors":[{"name":"a","shape":[-1,4],"offset":0}]}"#,
            #"{"format":"pgverify-raw-f32","version":1,"blob":"w.f32","tensors":[{"name":"a","shape":[4611686018427387904,4],"offset":0}]}"#,
            #"{"format":"pgverify-raw-f32","version":1,"blob":"w.f32","tensors":[{"name":"a","shape":[1],"offset":-4}]}"#,
            #"{"format":"pgverify-raw-f32","version":1,"blob":"w.f32","tensors":[{"name":"a","shape":[1],"offset":0},{"name":"a","shape":[1],"offset":4}]}"#,
            #"{"format":"safetensors","version":1,"blob":"w.f32","tensors":[]}"#,
            #"{"format":"pgverify-raw-f32","version":1,"blob":"missing.f32","tensors":[]}"#,
            "not json",
        ] {
            let url = try Self.write(index: index, blob: [UInt8](repeating: 0, count: 16))
            #expect(throws: RawFloatWeightsError.self, "\(index)") { try RawFloatWeights(contentsOf: url) }
        }
    }
}
