import Foundation
import Reference

/// A `torch.save` archive: a ZIP whose `<prefix>/data.pkl` pickle refers to storages in
/// `<prefix>/data/<key>`, with `<prefix>/byteorder` (`little`) and a format version.
public struct TorchArchive: Sendable {
    /// The common folder of the entries (`archive` for files saved as `archive.pt`-like buffers).
    public var prefix: String
    /// `<prefix>/byteorder`, or `nil` when absent (old writers, always little-endian).
    public var byteOrder: String?
    /// `<prefix>/version` or `<prefix>/.data/version`, trimmed.
    public var version: String?
    /// The pickle protocol declared by `data.pkl`.
    public var pickleProtocol: Int
    /// The unpickled root object.
    public var root: PickleValue

    /// Reads the archive in `zip`, unpickling `data.pkl` with storages from `data/<key>`. The archive
    /// and the copies of the pickle made while reading it must fit in `limit` bytes.
    public init(zip: ZipArchive, limit: Int = Decompression.defaultLimit) throws(ArtifactError) {
        let file = zip.file
        let pickles = zip.entries.filter { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pickle = pickles.first else {
            if pickles.isEmpty { throw .missingEntry(InputLocation(file: file), name: "*/data.pkl") }
            throw .malformedZip(InputLocation(file: file), detail: "\(pickles.count) data.pkl entries")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix

        if let entry = zip.entry(named: prefix + "byteorder") {
            let order = String(decoding: try zip.data(of: entry), as: UTF8.self)
            guard order == "little" else {
                throw .unsupportedFormat(InputLocation(file: file, offset: entry.dataOffset), detail: "byte order \(order); only little-endian archives are read")
            }
            byteOrder = order
        }
        let versionEntry = zip.entry(named: prefix + "version") ?? zip.entry(named: prefix + ".data/version")
        if let versionEntry {
            version = String(decoding: try zip.data(of: versionEntry), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        // Storage checksums are most of the reading time: check them all at once, in parallel.
        let storagePrefix = prefix + "data/"
        try zip.checkCRCs(of: zip.entries.filter { $0.name.hasPrefix(storagePrefix) })
        // The pickle is read from a copy, and its byte strings are copied once more as values.
        guard zip.bytes.count <= limit, pickle.size <= (limit - zip.bytes.count) / 2 else {
            throw .outputLimitExceeded(InputLocation(file: file, offset: pickle.dataOffset),
                                       codec: "\(pickle.name) (read from a copy beside the archive)", limit: limit)
        }
        let pickleBytes = try zip.data(of: pickle)
        pickleProtocol = pickleBytes.count >= 2 && pickleBytes[0] == 0x80 ? Int(pickleBytes[1]) : 0
        let pickleName = "\(file) > \(pickle.name)"
        var loaded: [String: StorageReference] = [:]
        var loadedBytes = 0
        let reader = PickleReader(bytes: pickleBytes, file: pickleName) { (pid, location) throws(ArtifactError) in
            guard let fields = pid.tupleValue, fields.count == 5, fields[0].stringValue == "storage",
                  case .global(let module, let typeName) = fields[1], let key = fields[2].stringValue,
                  let declared = fields[4].intValue else {
                throw .malformedPickle(location, detail: "persistent id is not ('storage', type, key, location, numel)")
            }
            // An untyped storage (torch 2.x, for float8) is bytes; `_rebuild_tensor_v3` gives it its dtype.
            let untyped = module == "torch.storage" && typeName == "UntypedStorage"
            guard untyped || module == "torch",
                  let dtype = untyped ? .uint8 : TorchDType(storageType: typeName) ?? TorchDType(torchName: typeName) else {
                throw .unsupportedDType(location, dtype: "\(module).\(typeName)")
            }
            if let storage = loaded[key] { return .storage(storage) }
            let name = storagePrefix + key
            guard let entry = zip.entry(named: name) else {
                throw .missingEntry(location, name: name)
            }
            // Entries of a well-formed archive do not overlap, so storages cannot add up to more than
            // the archive; overlapping entries would multiply memory.
            guard entry.size <= zip.bytes.count - loadedBytes else {
                throw .malformedZip(location, detail: "storages add up to more than the archive's \(zip.bytes.count) bytes (overlapping entries)")
            }
            loadedBytes += entry.size
            let bytes = zip.unverifiedSlice(of: entry)
            let count = bytes.count / dtype.size
            guard count >= declared else {
                throw .storageTooShort(location, storage: name, neededElements: declared, availableElements: count)
            }
            let storage = StorageReference(dtype: dtype, key: name, count: count, bytes: bytes)
            loaded[key] = storage
            return .storage(storage)
        }
        root = try reader.read()
    }
}
