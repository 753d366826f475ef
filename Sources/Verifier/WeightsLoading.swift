import Foundation
import Reference

/// The seam between artifact reading and evaluation: an artifact file in, float32 weights out.
public enum WeightsLoader {
    /// Reads, decompresses and dequantizes the artifact at `url` into float32 weights by name.
    public static func load(artifact url: URL) throws -> Weights {
        throw UnsupportedArtifact(path: url.path, reason: "artifact loading is not implemented yet")
    }
}

/// An artifact we cannot (yet) turn into weights.
public struct UnsupportedArtifact: InputError {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): unsupported artifact: \(reason)" }
}
