/// Why a validation shard (or shard pattern) could not be read.
public enum ValidationShardError: InputError, Equatable {
    case unreadable(file: String, reason: String)
    /// Shorter than the 1024-byte header.
    case truncatedHeader(InputLocation, size: Int)
    case badMagic(InputLocation, found: Int32)
    case badVersion(InputLocation, found: Int32)
    case negativeTokenCount(InputLocation, count: Int)
    /// The file's size is not `1024 + 2 * count` for the header's token count.
    case sizeMismatch(InputLocation, tokenCount: Int, expectedBytes: Int, actualBytes: Int)
    /// No file matches the pattern.
    case noMatch(pattern: String)
    /// `glob(3)` failed (e.g. a directory could not be read).
    case globFailed(pattern: String, code: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read shard: \(reason)"
        case let .truncatedHeader(location, size):
            return "\(location): shard is \(size) bytes, shorter than its \(ValidationShard.headerBytes)-byte header"
        case let .badMagic(location, found):
            return "\(location): shard magic is \(found), expected \(ValidationShard.magic)"
        case let .badVersion(location, found):
            return "\(location): shard version is \(found), expected \(ValidationShard.version)"
        case let .negativeTokenCount(location, count):
            return "\(location): shard header declares a negative token count (\(count))"
        case let .sizeMismatch(location, count, expected, actual):
            return "\(location): shard header declares \(count) tokens, so the file should be \(expected) bytes, "
                + "but it is \(actual) bytes"
        case let .noMatch(pattern):
            return "no validation shard matches \(pattern)"
        case let .globFailed(pattern, code):
            return "cannot list validation shards matching \(pattern) (glob error \(code))"
        }
    }
}
