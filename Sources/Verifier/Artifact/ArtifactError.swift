import Reference

/// Why an artifact could not be read safely. Every case names where the problem sits
/// (`file: at byte N`, where `file` may be an entry inside the archive) and the evidence found there.
public enum ArtifactError: InputError, Equatable {
    /// The artifact file could not be read at all.
    case unreadable(InputLocation, detail: String)
    /// Fewer bytes than a structure needs.
    case truncated(InputLocation, what: String, needed: Int, available: Int)
    /// The bytes match no compression or container we know.
    case unrecognizedCompression(InputLocation, firstBytes: String, detail: String)
    /// A decoder rejected the stream.
    case corruptStream(InputLocation, codec: String, detail: String)
    /// Decompression produced more than the configured limit (a decompression bomb or a limit set too low).
    case outputLimitExceeded(InputLocation, codec: String, limit: Int)
    /// The ZIP container is malformed: bad signature, an offset or size outside the file, a bad CRC.
    case malformedZip(InputLocation, detail: String)
    /// A ZIP feature torch.save never writes (compressed entries, encryption, multi-disk).
    case unsupportedZip(InputLocation, detail: String)
    /// An entry the torch.save layout requires is absent.
    case missingEntry(InputLocation, name: String)
    /// The pickle names a global outside the torch.save allow-list; nothing was called.
    case forbiddenGlobal(InputLocation, module: String, name: String)
    /// An opcode the reader does not interpret (either unknown or never emitted by torch.save).
    case unsupportedOpcode(InputLocation, opcode: UInt8, name: String)
    /// The pickle program is inconsistent (stack underflow, wrong argument types, missing memo entry).
    case malformedPickle(InputLocation, detail: String)
    /// Containers in the pickle nest deeper than ``InputLimits/pickleNestingDepth``.
    case pickleTooDeep(InputLocation, limit: Int)
    /// A tensor view reaches past the end of its storage.
    case storageTooShort(InputLocation, storage: String, neededElements: Int, availableElements: Int)
    /// A storage or tensor element type we do not read.
    case unsupportedDType(InputLocation, dtype: String)
    /// The unpickled object is not a structure any dequantizer understands, or is inconsistent.
    case unsupportedFormat(InputLocation, detail: String)
    /// The stored tensors are inconsistent with the format (missing scale, wrong shape, bad dtype string).
    case malformedFormat(InputLocation, detail: String)
    /// A helper program (lrzip) was stopped by one of its ``HelperLimits``.
    case helperLimitExceeded(InputLocation, program: String, limit: HelperLimit)
    /// A helper program could not be started, or its limits are set wrongly.
    case helperUnavailable(InputLocation, program: String, detail: String)

    /// Where the problem sits.
    public var location: InputLocation {
        switch self {
        case .unreadable(let l, _), .truncated(let l, _, _, _), .unrecognizedCompression(let l, _, _), .corruptStream(let l, _, _),
             .outputLimitExceeded(let l, _, _), .malformedZip(let l, _), .unsupportedZip(let l, _),
             .missingEntry(let l, _), .forbiddenGlobal(let l, _, _), .unsupportedOpcode(let l, _, _),
             .malformedPickle(let l, _), .pickleTooDeep(let l, _), .storageTooShort(let l, _, _, _), .unsupportedDType(let l, _),
             .unsupportedFormat(let l, _), .malformedFormat(let l, _), .helperLimitExceeded(let l, _, _),
             .helperUnavailable(let l, _, _):
            return l
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let l, let detail):
            return "\(l): cannot read the artifact: \(detail)"
        case .truncated(let l, let what, let needed, let available):
            return "\(l): truncated \(what): needs \(needed) bytes, only \(available) available"
        case .unrecognizedCompression(let l, let first, let detail):
            return "\(l): unrecognized compression (first bytes \(first)): \(detail)"
        case .corruptStream(let l, let codec, let detail):
            return "\(l): corrupt \(codec) stream: \(detail)"
        case .outputLimitExceeded(let l, let codec, let limit):
            return "\(l): \(codec) output exceeds the decompression limit of \(limit) bytes (decompression bomb?)"
        case .malformedZip(let l, let detail):
            return "\(l): malformed ZIP: \(detail)"
        case .unsupportedZip(let l, let detail):
            return "\(l): unsupported ZIP feature: \(detail)"
        case .missingEntry(let l, let name):
            return "\(l): missing archive entry \(name)"
        case .forbiddenGlobal(let l, let module, let name):
            return "\(l): pickle refers to forbidden global \(module).\(name); refused (nothing was executed)"
        case .unsupportedOpcode(let l, let opcode, let name):
            let hex = String(opcode, radix: 16, uppercase: true)
            return "\(l): unsupported pickle opcode 0x\(hex.count == 1 ? "0" + hex : hex) (\(name)); refused"
        case .malformedPickle(let l, let detail):
            return "\(l): malformed pickle: \(detail)"
        case .pickleTooDeep(let l, let limit):
            return "\(l): pickle containers nest deeper than \(limit) levels (torch.save state dicts nest a few); refused"
        case .storageTooShort(let l, let storage, let needed, let available):
            return "\(l): tensor view needs \(needed) elements but storage \(storage) holds only \(available)"
        case .unsupportedDType(let l, let dtype):
            return "\(l): unsupported tensor dtype \(dtype)"
        case .unsupportedFormat(let l, let detail):
            return "\(l): unsupported artifact format: \(detail)"
        case .malformedFormat(let l, let detail):
            return "\(l): malformed artifact: \(detail)"
        case .helperLimitExceeded(let l, let program, let limit):
            return "\(l): \(program) reached \(limit) and was stopped; the stream is refused"
        case .helperUnavailable(let l, let program, let detail):
            return "\(l): cannot run \(program): \(detail)"
        }
    }
}

extension InputLocation {
    /// The same file at another offset.
    func at(_ offset: Int) -> InputLocation { InputLocation(file: file, offset: offset) }
}
