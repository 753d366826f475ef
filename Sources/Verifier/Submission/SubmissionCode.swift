/// The submitted training script: the code whose bytes count toward the cap.
///
/// The challenge counts "code bytes" as the script as submitted, so a self-extracting wrapper
/// (`exec(lzma.decompress(base64.b85decode(...)))`) counts its own, compressed, bytes.
public struct SubmissionCode: Sendable, Equatable {
    /// File name relative to the submission folder (normally `train_gpt.py`).
    public var name: String
    /// Size on disk in bytes: the code bytes that count.
    public var bytes: Int
    /// Whether the script is plain source or a self-extracting wrapper.
    public var packing: CodePacking
    /// Other code files of the folder that the script names (it may read or exec them), with their sizes.
    /// Their bytes are not in ``bytes``; the size check flags them for review.
    public var referencedFiles: [SubmissionFileInfo]
    /// The script's LZMA2 size (``CompressedSize/lzma2(_:)``): about what a compressed copy of it holds.
    public var compressedBytes: Int?
    /// Other code files of the folder with exactly the script's bytes (a copy kept under another name).
    public var copies: [String] = []

    public init(name: String, bytes: Int, packing: CodePacking, referencedFiles: [SubmissionFileInfo],
                compressedBytes: Int? = nil) {
        self.name = name
        self.bytes = bytes
        self.packing = packing
        self.referencedFiles = referencedFiles
        self.compressedBytes = compressedBytes
    }
}

/// How a script is stored.
public enum CodePacking: String, Sendable, Equatable {
    /// Readable Python source.
    case plain
    /// A wrapper that decodes (base85/base64) and decompresses (lzma/zlib/...) its real source and `exec`s it.
    case selfExtracting = "self_extracting"

    /// Recognizes the wrapper idiom from the script's text: an `exec(` of a decompressed, decoded literal.
    /// Only the text is inspected (its first and last 4 KiB: a wrapper that binds its payload to a name first
    /// calls `exec` after it); nothing is decoded or run.
    static func detect(in text: String) -> CodePacking {
        let head = String(text.prefix(4096)) + "\n" + String(text.suffix(4096))
        let decompresses = ["lzma", "zlib", "brotli", "zstd", "bz2", "gzip"].contains { head.contains($0) }
        let decodes = ["b85decode", "b64decode", "a85decode"].contains { head.contains($0) }
        return head.contains("exec(") && decompresses && decodes ? .selfExtracting : .plain
    }
}
