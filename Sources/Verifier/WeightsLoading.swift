import Foundation
import Reference

/// The seam between artifact reading and evaluation: an artifact file in, float32 weights out.
public enum WeightsLoader {
    /// Reads, decompresses and dequantizes the artifact at `url` into float32 weights by name,
    /// without executing anything from it (see ``ArtifactReader``).
    ///
    /// - Parameters:
    ///   - originalDTypes: each parameter's dtype in the model being evaluated. Formats such as the
    ///     records' `{'w','m'}` dicts cast to it without recording it; float32 where absent.
    /// - Throws: ``ArtifactError`` naming the file and byte offset for truncated, hostile or
    ///   unsupported artifacts.
    public static func load(artifact url: URL, options: ArtifactReader.Options = .init(),
                            originalDTypes: [String: TorchDType] = [:]) throws -> Weights {
        try ArtifactReader.weights(of: ArtifactReader.read(url: url, options: options), originalDTypes: originalDTypes)
    }
}

/// An artifact we cannot (yet) turn into weights.
public struct UnsupportedArtifact: InputError {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): unsupported artifact: \(reason)" }
}
