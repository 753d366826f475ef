import Foundation
import Reference

/// The readers of hostile input that `scripts/fuzz.sh` fuzzes, each behind one entry taking raw
/// bytes. The libFuzzer binary (`Sources/pgverify-fuzz`) and the regression tests over
/// `fixtures/hostile/fuzz/` call the same ``run(_:)``, so an input that once crashed a reader is
/// replayed through exactly the path that crashed.
///
/// An entry returns normally or throws the reader's typed error; anything else (a trap, a sanitizer
/// report, a hang, memory past the fuzzer's limit) is a bug in the reader.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// ``ArtifactReader/read(bytes:file:options:)`` (every codec, BSHF, PGRP, ZIP, pickle, export
    /// formats), then dequantization when the tensors are small.
    case artifact
    /// ``PickleReader`` alone, with storages made up from each persistent id, then format recognition.
    case pickle
    /// ``SentencePieceModel/init(serialized:file:)`` and the byte accounting derived from it.
    case sentencepiece
    /// ``ValidationShard/decode(_:file:)``.
    case shard
    /// The python3 front-end's tree stream (``PyTreeReader``), then the wrapper search over each tree.
    case pythonTree = "python-tree"
    /// The python3 front-end's tree stream, each tree then checked as baseline model code
    /// (``ArchitectureConformance``: the forward interpreter, the readings of activation, block schedule,
    /// learned vectors, fake quantization and switches) against the baseline's default configuration.
    case conformance
    /// ``SelfExtractingWrapper/find(in:file:)`` on `exec(<codec chain>(<payload>))`: the first byte
    /// chooses the chain, the rest is the payload literal.
    case wrapper
    /// `submission.json`: the strict JSON reader and the claims read from the document.
    case submissionJSON = "submission-json"
    /// Train logs and README: the claims read from their lines.
    case submissionLog = "submission-log"

    /// Most bytes the artifact entry lets decompression produce. Far below the 1 GiB default, so
    /// each execution stays fast; the refusal past the limit is the same code path.
    public static let artifactDecompressionLimit = 4 << 20
    /// The baseline code's own defaults (9 layers, dim 512), so its tree, a seed, is matched all the way.
    static let conformanceConfig = GPTConfig(vocabSize: 1024, numLayers: 9, modelDim: 512, numHeads: 8, numKVHeads: 4,
                                             mlpHidden: 1024, tieEmbeddings: true, ropeBase: 10_000, logitSoftcap: 30)
    /// Largest tensor total the fuzz entries dequantize or make up storage for (keeps each run small).
    static let elementBudget = 1 << 20

    /// Feeds `bytes` to this target's reader.
    public func run(_ bytes: [UInt8]) throws {
        let file = "fuzz-input"
        switch self {
        case .artifact:
            let contents = try ArtifactReader.read(
                bytes: bytes, file: file, options: .init(maxDecompressedBytes: Self.artifactDecompressionLimit))
            let elements = contents.format.tensors.reduce(0) { total, tensor in
                total &+ tensor.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            }
            if elements >= 0, elements <= Self.elementBudget {
                _ = try ArtifactReader.weights(of: contents)
            }
        case .pickle:
            let storages = MadeUpStorages()
            let root = try PickleReader(bytes: bytes, file: file) { (pid, location) throws(ArtifactError) in
                try storages.load(pid, location)
            }.read()
            _ = try ArtifactFormats.recognize(root, location: InputLocation(file: file))
        case .sentencepiece:
            let model = try SentencePieceModel(serialized: bytes, file: file)
            _ = model.byteAccounting
        case .shard:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(ValidationShardError) -> [UInt16] in try ValidationShard.decode(raw, file: file) }
            }
            _ = try result.get()
        case .pythonTree:
            for outcome in try PyTreeReader.read(Data(bytes)) {
                if case .tree(let module) = outcome { _ = try SelfExtractingWrapper.find(in: module, file: file) }
            }
        case .conformance:
            for outcome in try PyTreeReader.read(Data(bytes)) {
                guard case .tree(let module) = outcome else { continue }
                // A refusal (ModelConfigError, the check's only error) is the expected end for most inputs.
                _ = try? ArchitectureConformance.checkBaseline(
                    tree: module, lines: [], file: file, config: Self.conformanceConfig,
                    parameterShapes: BaselineParameterShapes.shapes(Self.conformanceConfig), readsActivation: true)
            }
        case .wrapper:
            guard let selector = bytes.first else { return }
            _ = try SelfExtractingWrapper.find(in: Self.wrapperModule(selector: selector, payload: Array(bytes.dropFirst())),
                                               file: file)
        case .submissionJSON:
            let metadata = try SubmissionFileReader.metadata(bytes, name: "submission.json", path: file)
            _ = MetadataClaims.claims(from: metadata)
        case .submissionLog:
            let text = SubmissionFileReader.text(bytes, name: "train_seed42.log")
            _ = LogClaims.claims(from: text)
            _ = ReadmeClaims.claims(from: text)
        }
    }

    /// The module `exec(<chain>(<payload>))`. Bits 0-1 of `selector` choose the text decoding
    /// (none, base85, base64, urlsafe base64), bits 2-4 the decompression (none, zlib, raw deflate,
    /// gzip, lzma, raw LZMA2, `codecs.decode(..., "zlib")`, zlib with wbits 47).
    static func wrapperModule(selector: UInt8, payload: [UInt8]) -> PyNode {
        var expression = node("Constant", ["value": .constant(.bytes(payload))])
        switch selector & 3 {
        case 1: expression = call("base64.b85decode", [expression])
        case 2: expression = call("base64.b64decode", [expression])
        case 3: expression = call("base64.urlsafe_b64decode", [expression])
        default: break
        }
        switch (selector >> 2) & 7 {
        case 1: expression = call("zlib.decompress", [expression])
        case 2: expression = call("zlib.decompress", [expression, integer(-15)])
        case 3: expression = call("gzip.decompress", [expression])
        case 4: expression = call("lzma.decompress", [expression])
        case 5:
            let filters = node("List", ["elts": .nodes([node("Dict", [
                "keys": .sparseNodes([string("id"), string("dict_size")]),
                "values": .nodes([dotted("lzma.FILTER_LZMA2"), integer(1 << 16)]),
            ])])])
            expression = call("lzma.decompress", [expression], keywords: [
                ("format", dotted("lzma.FORMAT_RAW")), ("filters", filters),
            ])
        case 6: expression = call("codecs.decode", [expression, string("zlib")])
        case 7: expression = call("zlib.decompress", [expression, integer(47)])
        default: break
        }
        let statement = node("Expr", ["value": .node(call("exec", [expression]))])
        return node("Module", ["body": .nodes([statement])])
    }

    private static func node(_ type: String, _ fields: KeyValuePairs<String, PyValue>) -> PyNode {
        PyNode(type: type, line: 1, endLine: 1, layout: PyNodeLayout(names: fields.map(\.key)), values: fields.map(\.value))
    }

    private static func dotted(_ name: String) -> PyNode {
        let parts = name.split(separator: ".").map(String.init)
        var result = node("Name", ["id": .string(parts[0])])
        for part in parts.dropFirst() { result = node("Attribute", ["value": .node(result), "attr": .string(part)]) }
        return result
    }

    private static func call(_ function: String, _ arguments: [PyNode],
                             keywords: [(String, PyNode)] = []) -> PyNode {
        node("Call", [
            "func": .node(dotted(function)),
            "args": .nodes(arguments),
            "keywords": .nodes(keywords.map { node("keyword", ["arg": .string($0.0), "value": .node($0.1)]) }),
        ])
    }

    private static func integer(_ value: Int) -> PyNode { node("Constant", ["value": .constant(.int(String(value)))]) }
    private static func string(_ value: String) -> PyNode { node("Constant", ["value": .constant(.string(value))]) }
}

/// Zero-filled storages of the element count and type each persistent id `('storage', torch.T, key,
/// location, numel)` declares, one per key as ``TorchArchive`` loads them from the archive, at most
/// ``FuzzTarget/elementBudget`` elements in all.
private final class MadeUpStorages {
    private var loaded: [String: StorageReference] = [:]
    private var elements = 0

    func load(_ pid: PickleValue, _ location: InputLocation) throws(ArtifactError) -> PickleValue {
        guard let fields = pid.tupleValue, fields.count == 5, case .global(let module, let typeName) = fields[1],
              let key = fields[2].stringValue, let count = fields[4].intValue else {
            throw .malformedPickle(location, detail: "persistent id is not ('storage', type, key, location, numel)")
        }
        if let storage = loaded[key] { return .storage(storage) }
        let untyped = module == "torch.storage" && typeName == "UntypedStorage"
        guard let dtype = untyped ? .uint8 : TorchDType(storageType: typeName) ?? TorchDType(torchName: typeName) else {
            throw .unsupportedDType(location, dtype: typeName)
        }
        guard count >= 0, count <= FuzzTarget.elementBudget - elements else {
            throw .malformedPickle(location, detail: "storages of more than \(FuzzTarget.elementBudget) elements in all")
        }
        elements += count
        let bytes = [UInt8](repeating: 0, count: count * dtype.size)
        let storage = StorageReference(dtype: dtype, key: key, count: count, bytes: bytes[...])
        loaded[key] = storage
        return .storage(storage)
    }
}
