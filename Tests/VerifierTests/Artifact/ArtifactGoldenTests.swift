import Foundation
import Reference
import Testing
@testable import Verifier

/// Real and synthetic artifacts against PyTorch running the challenge's own dequantizer.
@Suite struct ArtifactGoldenTests {
    @Test func realBaselineArtifactMatchesPyTorchBitForBit() throws {
        let url = Paths.fixture("artifacts/taleef7-baseline-2L64d/final_model.int8.ptz")
        let golden = try ArtifactGolden.load("artifacts/taleef7-baseline-2L64d/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        #expect(contents.compression == .zlib)
        #expect(contents.shuffle == nil)
        #expect(contents.format.name == golden.format)
        #expect(contents.archive.byteOrder == "little")
        #expect(contents.fileBytes == 146_938)
        golden.expectMatches(try WeightsLoader.load(artifact: url))
        // tok_emb was bf16 in the model: stored fp16, restored by rounding to bf16.
        let embedding = contents.format.tensors.first { $0.name == "tok_emb.weight" }
        #expect(embedding?.scheme == "passthrough float16 -> bfloat16")
        #expect(golden.tensors["tok_emb.weight"]?.dtype == "bfloat16")
    }

    @Test func syntheticInt8ArtifactMatchesPyTorchBitForBit() throws {
        let url = Paths.fixture("artifacts/synthetic-int8/model.int8.ptz")
        let golden = try ArtifactGolden.load("artifacts/synthetic-int8/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        golden.expectMatches(try ArtifactReader.weights(of: contents))
        let summaries = Dictionary(uniqueKeysWithValues: contents.format.tensors.map { ($0.name, $0) })
        // Every quantization branch is present, with the scheme PyTorch's qmeta records.
        let schemes = try #require(golden.schemes)
        #expect(Set(schemes.values) == ["per_row", "per_tensor"])
        for (name, scheme) in schemes {
            let summary = try #require(summaries[name])
            #expect(summary.dtype == "int8")
            #expect(summary.scheme.hasPrefix(scheme == "per_row" ? "int8 per-row" : "int8 per-tensor"), "\(name): \(summary.scheme)")
        }
        // The dtype each tensor is restored to is the golden's dtype.
        for (name, tensor) in golden.tensors {
            let summary = try #require(summaries[name])
            #expect(summary.scheme.split(separator: " ").last.map(String.init) == tensor.dtype, "\(name): \(summary.scheme)")
        }
        #expect(golden.tensors.values.contains { $0.dtype == "bfloat16" && $0.count > 65_536 })
    }

    static let wrappings = [
        ("model.none.pt", Compression.none, 0), ("model.zlib.ptz", .zlib, 0), ("model.zstd.ptz", .zstd, 0),
        ("model.xz.ptz", .xz, 0), ("model.lzma-alone.ptz", .lzmaAlone, 0), ("model.brotli.ptz", .brotli, 0),
        ("model.bshf1-brotli.ptz", .brotli, 5), ("model.bshf2-brotli.ptz", .brotli, 6),
    ]

    @Test(arguments: wrappings)
    func everyWrappingDecodesToTheSameTensors(file: String, compression: Compression, shuffleHeader: Int) throws {
        let golden = try ArtifactGolden.load("artifacts/wrappers/goldens.json")
        #expect(golden.wrappings?.contains(file) == true)
        let contents = try ArtifactReader.read(url: Paths.fixture("artifacts/wrappers/\(file)"))
        #expect(contents.compression == compression)
        #expect(contents.shuffle?.headerLength ?? 0 == shuffleHeader)
        if shuffleHeader > 0 { #expect(contents.shuffle?.stride == 2) }
        #expect(contents.format.name == "state_dict")
        golden.expectMatches(try ArtifactReader.weights(of: contents))
    }

    @Test func storedDTypesStridesAndOffsetsAreRead() throws {
        let contents = try ArtifactReader.read(url: Paths.fixture("artifacts/wrappers/model.none.pt"))
        let dtypes = Dictionary(uniqueKeysWithValues: contents.format.tensors.map { ($0.name, $0.dtype) })
        #expect(dtypes["fp8"] == "float8_e4m3fn")
        #expect(dtypes["bf16"] == "bfloat16")
        #expect(dtypes["flag"] == "bool")
        guard case .dict(let root) = contents.archive.root,
              let transposed = root["transposed"]?.tensorValue, let offsetView = root["offset_view"]?.tensorValue else {
            Issue.record("expected a dict with tensors"); return
        }
        #expect(transposed.strides == [1, 7])
        #expect(offsetView.storageOffset == 10)
        #expect(offsetView.storage.count == 40)
    }
}

/// `{'w','m'}` artifacts written by records' own export code, against the records' own dequantizers.
@Suite struct MixedWMFormatTests {
    static let records = [("record-wm-zstd", Compression.zstd, 0), ("record-wm-xz", .xz, 0), ("record-wm-bshf-brotli", .brotli, 5),
                          ("record-wm-lqer", .brotli, 5), ("record-pergroup-lrzip", .perGroup, 0)]

    @Test(arguments: records)
    func recordArtifactMatchesTheRecordsOwnDequantization(folder: String, compression: Compression, shuffleHeader: Int) throws {
        let golden = try ArtifactGolden.load("artifacts/\(folder)/goldens.json")
        let contents = try ArtifactReader.read(url: Paths.fixture("artifacts/\(folder)/model.int6.ptz"))
        #expect(contents.compression == compression)
        #expect(contents.shuffle?.headerLength ?? 0 == shuffleHeader)
        let format = try #require(contents.format as? MixedWMFormat)
        // The records take orig_dtype from the model they build; the golden's dtypes are that template.
        var template: [String: TorchDType] = [:]
        for (name, tensor) in golden.tensors {
            guard let dtype = TorchDType(rawValue: tensor.dtype) else { Issue.record("dtype \(tensor.dtype)"); return }
            template[name] = dtype
        }
        #expect(template.values.contains(.bfloat16))
        golden.expectMatches(try format.dequantize(originalDTypes: template))
        if folder == "record-wm-bshf-brotli" {
            #expect(format.tensors.contains { $0.name == "blocks.0.attn.attn_gate_w" && $0.scheme.hasPrefix("gate_int8_row per-row") })
        }
        if folder == "record-pergroup-lrzip" {
            // Row-sorted, transposed groups over two layers came back in place.
            #expect(Set(format.tensors.map(\.name)).isSuperset(of: ["tok_emb.weight", "blocks.0.attn.c_q.weight",
                                                                    "blocks.1.attn.c_q.weight", "blocks.0.mlp.proj.weight"]))
        }
        if folder == "record-wm-lqer" {
            // Both LQER variants are in the fixture.
            #expect(format.tensors.contains { $0.scheme.contains("+lqer_asym") })
            #expect(format.tensors.contains { $0.scheme.contains("+lqer ") })
        }
    }

    @Test func withoutATemplateFloat32ParametersStillMatch() throws {
        let golden = try ArtifactGolden.load("artifacts/record-wm-zstd/goldens.json")
        let weights = try WeightsLoader.load(artifact: Paths.fixture("artifacts/record-wm-zstd/model.int6.ptz"))
        let float32 = ArtifactGolden(tensors: golden.tensors.filter { $0.value.dtype == "float32" })
        #expect(float32.tensors.count == 3)
        float32.expectMatches(weights.filter { float32.tensors[$0.key] != nil })
    }

    @Test func metaKindsAreReadAsTheRecordsReadThem() throws {
        let at = InputLocation(file: "m")
        guard case .rows("gptq (int7)", ".q", ".scale") = try MixedWMFormat.kind(of: .string("gptq (int7)"), name: "x", at),
              case .rows("gate_int8_row", ".gq", ".gs") = try MixedWMFormat.kind(of: .string("gate_int8_row"), name: "x", at),
              case .passthrough = try MixedWMFormat.kind(of: .string("passthrough_ctrl"), name: "x", at) else {
            Issue.record("meta kinds misread"); return
        }
        guard case .rowsWithCorrection(_, asymmetric: true) = try MixedWMFormat.kind(of: .string("gptq (int6)+lqer_asym"), name: "x", at),
              case .rowsWithCorrection(_, asymmetric: false) = try MixedWMFormat.kind(of: .string("gptq (int7)+lqer"), name: "x", at) else {
            Issue.record("LQER kinds misread"); return
        }
        for refused in ["gptq (int6)+lqer_sym", "ternary", "int5_dz1"] {
            #expect(throws: ArtifactError.self) { try MixedWMFormat.kind(of: .string(refused), name: "x", at) }
        }
    }
}

/// The 03-21 DepthRecurrence record: `mixed_int8_int6_v1` dict behind a 4-byte `ZSTD` tag.
@Suite struct TaggedRecordTests {
    @Test func taggedMixedInt6ArtifactMatchesTheRecordsOwnDequantization() throws {
        let url = Paths.fixture("artifacts/record-mixed-int6-tagged/model.int6.ptz")
        let golden = try ArtifactGolden.load("artifacts/record-mixed-int6-tagged/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        #expect(contents.compression == .taggedZstd)
        #expect(contents.format.name == "mixed_int8_int6_v1")
        #expect(!contents.format.needsOriginalDTypes)
        #expect(golden.tensors["tok_emb.weight"]?.dtype == "bfloat16")
        golden.expectMatches(try WeightsLoader.load(artifact: url))
    }

    @Test func zlibTagIsReadToo() throws {
        let zlib = Array(try Data(contentsOf: Paths.fixture("artifacts/wrappers/model.zlib.ptz")))
        let contents = try ArtifactReader.read(bytes: Array("ZLIB".utf8) + zlib, file: "tagged.ptz")
        #expect(contents.compression == .taggedZlib)
        let golden = try ArtifactGolden.load("artifacts/wrappers/goldens.json")
        golden.expectMatches(try ArtifactReader.weights(of: contents))
        // Errors in the body count offsets from the end of the tag, and say so.
        #expect {
            try ArtifactReader.read(bytes: Array("ZLIB".utf8) + zlib.prefix(100), file: "cut.ptz")
        } throws: { error in
            (error as? ArtifactError)?.location.file == "cut.ptz after its 4-byte tag"
        }
    }
}

/// The 03-24 ternary record's packed dicts (base-3 + fp8, bitmask + fp4), against its own `deq_sd`.
@Suite struct PackedDictFormatTests {
    @Test(arguments: [("record-packed-ternary-fp8", "ternary"), ("record-packed-bitmask-fp4", "ternary_bitmask")])
    func packedArtifactMatchesTheRecordsOwnDequantization(folder: String, ternaryType: String) throws {
        let url = Paths.fixture("artifacts/\(folder)/model.ternary.ptz")
        let golden = try ArtifactGolden.load("artifacts/\(folder)/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        #expect(contents.compression == .xz)
        #expect(contents.format is PackedDictFormat)
        let dtypes = Dictionary(uniqueKeysWithValues: contents.format.tensors.map { ($0.name, $0.dtype) })
        #expect(dtypes["blocks.0.mlp.fc.weight"] == ternaryType)
        #expect(dtypes["blocks.0.attn.qkv.weight"] == ternaryType)
        #expect(dtypes["tok_emb.weight"] == (ternaryType == "ternary" ? "float8_e4m3fn" : "fp4"))
        #expect(golden.tensors.values.allSatisfy { $0.dtype == "bfloat16" })
        golden.expectMatches(try WeightsLoader.load(artifact: url))
    }

    @Test(arguments: [("record-xnor-brotli", Compression.methodByteBrotli), ("record-xnor-zstd", .methodByteZstd)])
    func xnorArtifactMatchesTheRecordsOwnDequantization(folder: String, compression: Compression) throws {
        let url = Paths.fixture("artifacts/\(folder)/model.xnor.ptz")
        let golden = try ArtifactGolden.load("artifacts/\(folder)/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        #expect(contents.compression == compression)
        #expect(contents.format.tensors.map(\.dtype).sorted() == ["bfloat16", "binary", "float8_e4m3fn"])
        golden.expectMatches(try ArtifactReader.weights(of: contents))
    }

    @Test func methodByteXzIsDetected() throws {
        let xz = Array(try Data(contentsOf: Paths.fixture("artifacts/wrappers/model.xz.ptz")))
        let contents = try ArtifactReader.read(bytes: [0] + xz, file: "tagged.ptz")
        #expect(contents.compression == .methodByteXz)
        try ArtifactGolden.load("artifacts/wrappers/goldens.json").expectMatches(try ArtifactReader.weights(of: contents))
    }

    @Test func bitPackedInt6ArtifactMatchesTheJEPARecordsOwnLoader() throws {
        let url = Paths.fixture("artifacts/record-jepa-int6/final_model.brotli.ptz")
        let golden = try ArtifactGolden.load("artifacts/record-jepa-int6/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        #expect(contents.compression == .brotli)
        #expect(contents.format.tensors.first { $0.name == "mixer.weight" }?.dtype == "int6")
        golden.expectMatches(try ArtifactReader.weights(of: contents))
    }

    @Test func binaryArtifactMatchesTheBinaryRecordsOwnDequantization() throws {
        let url = Paths.fixture("artifacts/record-packed-binary-fp8/model.binary.ptz")
        let golden = try ArtifactGolden.load("artifacts/record-packed-binary-fp8/goldens.json")
        let contents = try ArtifactReader.read(url: url)
        #expect(contents.format.tensors.first { $0.name == "blocks.0.mlp.fc.weight" }?.dtype == "binary")
        golden.expectMatches(try ArtifactReader.weights(of: contents))
    }
}
