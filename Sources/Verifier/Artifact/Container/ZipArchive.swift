import Reference

/// A read-only ZIP archive in memory, as `torch.save` writes it: stored (uncompressed) entries,
/// a central directory, optionally ZIP64 records.
///
/// Our own reader rather than ZIPFoundation: we only ever read from a buffer that already went through
/// decompression (no filesystem, no writing, no extraction), every offset and size must be checked
/// against that buffer with an error naming the byte, and the subset torch.save uses is small
/// enough to read completely here without a new package dependency.
public struct ZipArchive: Sendable {
    /// One file in the archive.
    public struct Entry: Sendable, Equatable {
        /// The name as stored (`archive/data.pkl`).
        public var name: String
        /// Offset of the entry's data in the archive buffer.
        public var dataOffset: Int
        /// Size of the data in bytes.
        public var size: Int
        /// CRC-32 from the central directory.
        public var crc32: UInt32
    }

    /// The archive bytes.
    public let bytes: [UInt8]
    /// The name used in error messages.
    public let file: String
    /// Entries in central-directory order.
    public let entries: [Entry]

    static let localSignature: UInt32 = 0x0403_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50

    /// Parses the central directory and every local header, checking all offsets and sizes.
    public init(bytes: [UInt8], file: String) throws(ArtifactError) {
        self.bytes = bytes
        self.file = file
        let reader = ByteReading(bytes: bytes, file: file)
        guard reader.matches(0, [0x50, 0x4B, 0x03, 0x04]) else {
            throw .malformedZip(reader.location(0), detail: "no ZIP local header signature (found \(hexPrefix(bytes, count: 4)))")
        }
        let end = try Self.findEndRecord(reader)
        var entryCount = Int(try reader.uint16(end + 10, "end of central directory"))
        var directorySize = Int(try reader.uint32(end + 12, "end of central directory"))
        var directoryOffset = Int(try reader.uint32(end + 16, "end of central directory"))
        guard try reader.uint16(end + 4, "disk number") == 0 else {
            throw .unsupportedZip(reader.location(end + 4), detail: "multi-disk archive")
        }
        let entriesOnDisk = Int(try reader.uint16(end + 8, "end of central directory"))
        guard entriesOnDisk == entryCount else {
            throw .malformedZip(reader.location(end + 8),
                                detail: "end-of-central-directory record counts \(entriesOnDisk) entries on this disk but \(entryCount) in all")
        }
        // The central directory ends where the (ZIP64) end record begins. torch.save writes ZIP64
        // records even for small archives; the 32-bit fields then either agree or are saturated.
        var directoryEnd = end
        let saturated = entryCount == 0xFFFF || directoryOffset == 0xFFFF_FFFF || directorySize == 0xFFFF_FFFF
        if end >= 20, (try? reader.uint32(end - 20, "")) == Self.zip64LocatorSignature {
            let zip64 = try Self.zip64Directory(reader, end: end)
            for (field, value, saturation, wide, name) in [
                (end + 10, entryCount, 0xFFFF, zip64.count, "an entry count"), (end + 12, directorySize, 0xFFFF_FFFF, zip64.size, "a directory size"),
                (end + 16, directoryOffset, 0xFFFF_FFFF, zip64.offset, "a directory offset"),
            ] where value != saturation && value != wide {
                throw .malformedZip(reader.location(field), detail: "end-of-central-directory record gives \(name) of \(value), its ZIP64 record \(wide)")
            }
            (entryCount, directorySize, directoryOffset, directoryEnd) = zip64
        } else if saturated {
            throw .malformedZip(reader.location(end), detail: "ZIP64 sizes without a ZIP64 locator")
        }
        guard directoryOffset <= directoryEnd, directorySize == directoryEnd - directoryOffset else {
            throw .malformedZip(reader.location(end + 12),
                                detail: "end-of-central-directory record puts the central directory at \(directoryOffset) (\(directorySize) bytes), but it must end at byte \(directoryEnd), where the end record begins")
        }
        var entries: [Entry] = []
        var names: Set<String> = []
        var cursor = directoryOffset
        for index in 0..<entryCount {
            guard cursor < directoryEnd else {
                throw .malformedZip(reader.location(end + 10),
                                    detail: "end-of-central-directory record counts \(entryCount) entries, but the central directory holds only \(index)")
            }
            let start = cursor
            let entry = try Self.readCentralEntry(reader, at: &cursor)
            guard cursor <= directoryEnd else {
                throw .malformedZip(reader.location(start), detail: "entry \(entry.name) runs past the end of the central directory at \(directoryEnd)")
            }
            // Two entries of one name would let a reader other than ours see other data.
            guard names.insert(entry.name).inserted else {
                throw .malformedZip(reader.location(start), detail: "duplicate entry name \(entry.name)")
            }
            entries.append(entry)
        }
        guard cursor == directoryEnd else {
            throw .malformedZip(reader.location(cursor),
                                detail: "end-of-central-directory record counts \(entryCount) entries, but the central directory holds more (\(directoryEnd - cursor) bytes left)")
        }
        self.entries = entries
    }

    /// The end-of-central-directory record: searched backwards over the 64 KiB comment window.
    private static func findEndRecord(_ reader: ByteReading) throws(ArtifactError) -> Int {
        let count = reader.bytes.count
        guard count >= 22 else {
            throw .truncated(reader.location(0), what: "ZIP archive", needed: 22, available: count)
        }
        var offset = count - 22
        let lowest = max(0, count - 22 - 0xFFFF)
        while offset >= lowest {
            if (try? reader.uint32(offset, "")) == endSignature { return offset }
            offset -= 1
        }
        throw .malformedZip(reader.location(count), detail: "no end-of-central-directory record (truncated archive?)")
    }

    /// The entry count, directory size and offset of the ZIP64 end record, and where that record begins.
    private static func zip64Directory(_ reader: ByteReading, end: Int) throws(ArtifactError) -> (count: Int, size: Int, offset: Int, record: Int) {
        let locator = end - 20
        let record = try checkedInt(reader.uint64(locator + 8, "ZIP64 locator"), reader.location(locator + 8), "ZIP64 end offset")
        guard record <= locator - 56 else {
            throw .malformedZip(reader.location(locator + 8), detail: "ZIP64 end record at \(record) overlaps its locator at \(locator)")
        }
        guard try reader.uint32(record, "ZIP64 end record") == zip64EndSignature else {
            throw .malformedZip(reader.location(record), detail: "bad ZIP64 end-of-central-directory signature")
        }
        let count = try checkedInt(reader.uint64(record + 32, "ZIP64 end record"), reader.location(record + 32), "entry count")
        let size = try checkedInt(reader.uint64(record + 40, "ZIP64 end record"), reader.location(record + 40), "directory size")
        let offset = try checkedInt(reader.uint64(record + 48, "ZIP64 end record"), reader.location(record + 48), "directory offset")
        return (count, size, offset, record)
    }

    private static func checkedInt(_ value: UInt64, _ location: InputLocation, _ what: String) throws(ArtifactError) -> Int {
        guard value <= UInt64(Int32.max) * 1024 else {
            throw .malformedZip(location, detail: "\(what) \(value) is implausibly large")
        }
        return Int(value)
    }

    private static func readCentralEntry(_ reader: ByteReading, at cursor: inout Int) throws(ArtifactError) -> Entry {
        let start = cursor
        guard try reader.uint32(start, "central directory entry") == centralSignature else {
            throw .malformedZip(reader.location(start), detail: "bad central directory entry signature")
        }
        let flags = try reader.uint16(start + 8, "central directory entry")
        let method = try reader.uint16(start + 10, "central directory entry")
        let crc = try reader.uint32(start + 16, "central directory entry")
        var compressedSize = Int(try reader.uint32(start + 20, "central directory entry"))
        var size = Int(try reader.uint32(start + 24, "central directory entry"))
        let nameLength = Int(try reader.uint16(start + 28, "central directory entry"))
        let extraLength = Int(try reader.uint16(start + 30, "central directory entry"))
        let commentLength = Int(try reader.uint16(start + 32, "central directory entry"))
        var localOffset = Int(try reader.uint32(start + 42, "central directory entry"))
        let nameBytes = try reader.slice(start + 46, nameLength, "entry name")
        let name = String(decoding: nameBytes, as: UTF8.self)
        let extra = try reader.slice(start + 46 + nameLength, extraLength, "entry extra field")
        try reader.require(start + 46 + nameLength + extraLength, commentLength, "entry comment")
        cursor = start + 46 + nameLength + extraLength + commentLength

        if flags & 0x1 != 0 {
            throw .unsupportedZip(reader.location(start + 8), detail: "entry \(name) is encrypted")
        }
        guard method == 0 else {
            throw .unsupportedZip(reader.location(start + 10), detail: "entry \(name) uses compression method \(method); torch.save stores entries")
        }
        // ZIP64 extended information: only the fields whose 32-bit value is saturated are present.
        if size == 0xFFFF_FFFF || compressedSize == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
            let extraReader = ByteReading(bytes: Array(extra), file: reader.file)
            var position = 0
            while position + 4 <= extra.count {
                let tag = try extraReader.uint16(position, "extra field")
                let length = Int(try extraReader.uint16(position + 2, "extra field"))
                if tag == 0x0001 {
                    var field = position + 4
                    let base = start + 46 + nameLength
                    if size == 0xFFFF_FFFF {
                        size = try checkedInt(extraReader.uint64(field, "ZIP64 size"), reader.location(base + field), "size"); field += 8
                    }
                    if compressedSize == 0xFFFF_FFFF {
                        compressedSize = try checkedInt(extraReader.uint64(field, "ZIP64 size"), reader.location(base + field), "size"); field += 8
                    }
                    if localOffset == 0xFFFF_FFFF {
                        localOffset = try checkedInt(extraReader.uint64(field, "ZIP64 offset"), reader.location(base + field), "offset")
                    }
                    break
                }
                position += 4 + length
            }
        }
        guard compressedSize == size else {
            throw .malformedZip(reader.location(start + 20), detail: "stored entry \(name) has compressed size \(compressedSize) != size \(size)")
        }
        // The local header repeats the name; its own extra field (torch pads data to 64-byte alignment) decides the data offset.
        guard try reader.uint32(localOffset, "local header of \(name)") == localSignature else {
            throw .malformedZip(reader.location(localOffset), detail: "entry \(name): no local header signature at its offset \(localOffset)")
        }
        let localNameLength = Int(try reader.uint16(localOffset + 26, "local header of \(name)"))
        let localExtraLength = Int(try reader.uint16(localOffset + 28, "local header of \(name)"))
        let dataOffset = localOffset + 30 + localNameLength + localExtraLength
        guard dataOffset <= reader.bytes.count, size <= reader.bytes.count - dataOffset else {
            throw .malformedZip(reader.location(localOffset),
                                detail: "entry \(name): data at \(dataOffset) (\(size) bytes) runs past the end of the archive (\(reader.bytes.count) bytes)")
        }
        return Entry(name: name, dataOffset: dataOffset, size: size, crc32: crc)
    }

    /// The entry called `name`, if any.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The bytes of `entry`, after checking its CRC-32.
    public func data(of entry: Entry) throws(ArtifactError) -> [UInt8] {
        Array(try slice(of: entry))
    }

    /// The bytes of `entry` in place (no copy), after checking its CRC-32.
    public func slice(of entry: Entry) throws(ArtifactError) -> ArraySlice<UInt8> {
        try checkCRC(of: entry)
        return unverifiedSlice(of: entry)
    }

    /// The bytes of `entry` in place, for entries whose CRC-32 was already checked.
    func unverifiedSlice(of entry: Entry) -> ArraySlice<UInt8> {
        bytes[entry.dataOffset..<(entry.dataOffset + entry.size)]
    }

    /// Checks the CRC-32 of every entry in `selected`, entries spread over the cores; the first
    /// mismatch in entry order is reported, as checking one by one would.
    func checkCRCs(of selected: [Entry]) throws(ArtifactError) {
        var failures = [ArtifactError?](repeating: nil, count: selected.count)
        failures.withUnsafeMutableBufferPointer { slots in
            guard let slot = slots.baseAddress else { return }
            ParallelParts.forEachIndex(selected.count) { index in
                do throws(ArtifactError) { try checkCRC(of: selected[index]) } catch { slot[index] = error }
            }
        }
        if let first = failures.lazy.compactMap({ $0 }).first { throw first }
    }

    private func checkCRC(of entry: Entry) throws(ArtifactError) {
        let crc = unverifiedSlice(of: entry).withUnsafeBufferPointer { CRC32.checksum($0) }
        guard crc == entry.crc32 else {
            throw .malformedZip(InputLocation(file: file, offset: entry.dataOffset),
                                detail: "entry \(entry.name): CRC-32 \(crc) does not match the recorded \(entry.crc32)")
        }
    }
}
