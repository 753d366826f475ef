import Foundation
import Reference
import Testing
@testable import Verifier

/// A golden written by tools/artifact_goldens.py from PyTorch running the challenge's own code.
struct ArtifactGolden: Decodable {
    struct Sample: Decodable {
        var index: Int
        var bits: UInt32
    }

    struct TensorGolden: Decodable {
        var dtype: String
        var shape: [Int]
        var count: Int
        var checksum: Double
        var samples: [Sample]
    }

    var tensors: [String: TensorGolden]
    var format: String?
    var schemes: [String: String]?
    var wrappings: [String]?

    init(tensors: [String: TensorGolden]) { self.tensors = tensors }

    static func load(_ relative: String) throws -> ArtifactGolden {
        try JSONDecoder().decode(ArtifactGolden.self, from: Data(contentsOf: Paths.fixture(relative)))
    }

    /// Compares `weights` to the golden bit for bit: names, shapes, sampled float32 bit patterns and
    /// the float64 sum of all values taken in index order (the order the tool adds them in).
    func expectMatches(_ weights: Weights, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(weights.keys.sorted() == tensors.keys.sorted(), sourceLocation: sourceLocation)
        for (name, golden) in tensors.sorted(by: { $0.key < $1.key }) {
            guard let tensor = weights[name] else { continue }
            #expect(tensor.shape == golden.shape, "\(name) shape", sourceLocation: sourceLocation)
            #expect(tensor.count == golden.count, "\(name) count", sourceLocation: sourceLocation)
            for sample in golden.samples where sample.index < tensor.count {
                #expect(tensor.data[sample.index].bitPattern == sample.bits,
                        "\(name)[\(sample.index)] = \(tensor.data[sample.index]), PyTorch has \(Float(bitPattern: sample.bits))",
                        sourceLocation: sourceLocation)
            }
            var sum = 0.0
            for value in tensor.data { sum += Double(value) }
            #expect(sum == golden.checksum, "\(name) checksum", sourceLocation: sourceLocation)
        }
    }
}
