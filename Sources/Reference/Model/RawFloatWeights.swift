import Foundation

/// pgverify's plain float32 weights format, used by the eval fixtures and benchmarks: a JSON index
///
///     {"format": "pgverify-raw-f32", "version": 1, "blob": "NAME.weights.f32",
///      "config": {baseline Hyperparameters names…}, "seq_len": 1024,
///      "tensors": [{"name": "tok_emb.weight", "shape": [1024, 64], "offset": 0}, …]}
///
/// beside one blob of little-endian float32 values (`offset` in bytes). `config` and `seq_len` are
/// optional. Written by tools/eval_goldens.py; documented in fixtures/eval/README.md.
public struct RawFloatWeights: Sendable {
    public var weights: Weights
    /// The model shape recorded with the weights, if any.
    public var config: GPTConfig?
    /// The evaluation sequence length recorded with the weights, if any.
    public var seqLen: Int?

    /// Reads the index at `url` and the blob it names (relative to the index's folder).
    public init(contentsOf url: URL) throws(RawFloatWeightsError) {
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: url))
        } catch {
            throw .unreadable(InputLocation(file: url.path), "\(error)")
        }
        guard index.format == "pgverify-raw-f32", index.version == 1 else {
            throw .unreadable(InputLocation(file: url.path), "format \(index.format) version \(index.version) is not pgverify-raw-f32 version 1")
        }
        let blobURL = url.deletingLastPathComponent().appendingPathComponent(index.blob)
        let blob: Data
        do { blob = try Data(contentsOf: blobURL) } catch {
            throw .unreadable(InputLocation(file: blobURL.path), "\(error)")
        }
        var weights: Weights = [:]
        for entry in index.tensors {
            let location = InputLocation(file: blobURL.path, offset: entry.offset)
            let count: Int
            do { count = try Tensor.elementCount(entry.shape) } catch {
                throw .badTensor(location, name: entry.name, "\(error)")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
            guard !overflow, entry.offset >= 0, entry.offset <= blob.count, bytes <= blob.count - entry.offset else {
                throw .badTensor(location, name: entry.name, "\(count) floats do not fit the \(blob.count)-byte blob")
            }
            guard weights[entry.name] == nil else { throw .badTensor(location, name: entry.name, "listed twice") }
            let values = blob.withUnsafeBytes { raw in
                (0..<count).map { i in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: entry.offset + 4 * i, as: UInt32.self)))
                }
            }
            weights[entry.name] = try? Tensor(shape: entry.shape, data: values)
        }
        self.weights = weights
        self.config = index.config?.gptConfig
        self.seqLen = index.seq_len
    }

    private struct Index: Decodable {
        struct Entry: Decodable { var name: String; var shape: [Int]; var offset: Int }
        var format: String
        var version: Int
        var blob: String
        var config: Config?
        var seq_len: Int?
        var tensors: [Entry]
    }

    /// The baseline's `Hyperparameters` names for the model shape.
    private struct Config: Decodable {
        var vocab_size, num_layers, model_dim, num_heads, num_kv_heads, mlp_mult: Int
        var tie_embeddings: Bool
        var logit_softcap, rope_base: Double

        var gptConfig: GPTConfig {
            GPTConfig(vocabSize: vocab_size, numLayers: num_layers, modelDim: model_dim, numHeads: num_heads,
                      numKVHeads: num_kv_heads, mlpHidden: mlp_mult * model_dim, tieEmbeddings: tie_embeddings,
                      ropeBase: rope_base, logitSoftcap: logit_softcap)
        }
    }
}

/// A raw float32 weights file that cannot be read.
public enum RawFloatWeightsError: InputError {
    case unreadable(InputLocation, String)
    case badTensor(InputLocation, name: String, String)

    public var description: String {
        switch self {
        case .unreadable(let location, let reason): "\(location): not a readable pgverify-raw-f32 index: \(reason)"
        case .badTensor(let location, let name, let reason): "\(location): tensor \(name): \(reason)"
        }
    }
}
