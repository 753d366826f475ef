import Reference

/// A pickle interpreter for what `torch.save` writes (protocols 2–5): containers, numbers, strings,
/// bytes, `OrderedDict`, tensor rebuilds and storages through persistent ids.
///
/// It is a data reader, not a virtual machine: it never imports or calls anything. Globals outside
/// ``PickleAllowList`` and opcodes torch.save does not emit (object construction, extensions,
/// out-of-band buffers) are refused with the byte offset of the opcode.
public struct PickleReader {
    /// Resolves a persistent id (`('storage', type, key, location, numel)`) to a storage.
    public typealias PersistentLoad = (_ pid: PickleValue, _ location: InputLocation) throws(ArtifactError) -> PickleValue

    let reader: ByteReading
    let persistentLoad: PersistentLoad

    /// - Parameters:
    ///   - bytes: the pickle program (`data.pkl`).
    ///   - file: its name for error messages (`model.ptz > archive/data.pkl`).
    public init(bytes: [UInt8], file: String, persistentLoad: @escaping PersistentLoad) {
        self.reader = ByteReading(bytes: bytes, file: file)
        self.persistentLoad = persistentLoad
    }

    /// Runs the program to its `STOP` and returns the value it leaves.
    public func read() throws(ArtifactError) -> PickleValue {
        var stack: [PickleValue] = []
        /// The nesting depth of each stack value (0 for a leaf); lists and dicts also keep theirs as they grow.
        var depths: [Int] = []
        var marks: [Int] = []
        var memo: [Int: (value: PickleValue, depth: Int)] = [:]
        var position = 0
        let bytes = reader.bytes

        func location(_ offset: Int) -> InputLocation { reader.location(offset) }
        func push(_ value: PickleValue, depth: Int = 0) { stack.append(value); depths.append(depth) }
        func pop(_ at: Int) throws(ArtifactError) -> PickleValue {
            guard let value = stack.popLast() else {
                throw .malformedPickle(location(at), detail: "stack underflow")
            }
            depths.removeLast()
            return value
        }
        func popWithDepth(_ at: Int) throws(ArtifactError) -> (value: PickleValue, depth: Int) {
            guard let depth = depths.last else { throw .malformedPickle(location(at), detail: "stack underflow") }
            return (try pop(at), depth)
        }
        func popMark(_ at: Int) throws(ArtifactError) -> [PickleValue] {
            try popMarkWithDepth(at).items
        }
        /// The items since the last MARK and the deepest of them.
        func popMarkWithDepth(_ at: Int) throws(ArtifactError) -> (items: [PickleValue], depth: Int) {
            guard let mark = marks.popLast(), mark <= stack.count else {
                throw .malformedPickle(location(at), detail: "no MARK before \(PickleOpcode.name(bytes[at]))")
            }
            let items = Array(stack[mark...])
            let deepest = depths[mark...].max() ?? 0
            stack.removeSubrange(mark...)
            depths.removeSubrange(mark...)
            return (items, deepest)
        }
        /// The depth of a container holding items at most `deepest` deep; refused past the limit.
        func containerDepth(_ deepest: Int, _ at: Int) throws(ArtifactError) -> Int {
            guard deepest < InputLimits.pickleNestingDepth else {
                throw .pickleTooDeep(location(at), limit: InputLimits.pickleNestingDepth)
            }
            return deepest + 1
        }
        /// Marks values as held by a container. Nested lists and dicts are never changed again, so a
        /// container's depth, once known, stays true and no structure can contain itself.
        func nest(_ items: [PickleValue]) { for item in items { item.markNested() } }
        /// A list or dict about to change: refused once it sits inside another container.
        func requireUnnested(_ value: PickleValue, _ at: Int) throws(ArtifactError) {
            guard !value.isNested else {
                throw .malformedPickle(location(at), detail: "\(PickleOpcode.name(bytes[at])) changes a \(value.kind) already held by another container (a self-referencing structure); refused")
            }
        }
        /// Grows the depth of the list or dict on top of the stack to hold items `deepest` deep.
        func deepenTop(_ deepest: Int, _ at: Int) throws(ArtifactError) {
            let depth = max(depths[depths.count - 1], try containerDepth(deepest, at))
            depths[depths.count - 1] = depth
            stack[stack.count - 1].setContainerDepth(depth)
        }
        func text(_ start: Int, _ count: Int, _ at: Int) throws(ArtifactError) -> String {
            let slice = try reader.slice(start, count, "pickle string")
            guard let string = String(validating: slice, as: UTF8.self) else {
                throw .malformedPickle(location(at), detail: "string is not valid UTF-8")
            }
            return string
        }
        func length(_ value: UInt64, _ at: Int) throws(ArtifactError) -> Int {
            guard value <= UInt64(bytes.count) else {
                throw .truncated(location(at), what: "pickle argument", needed: Int(clamping: value), available: bytes.count - at)
            }
            return Int(value)
        }

        while true {
            let at = position
            let opcode = try reader.uint8(at, "pickle opcode")
            position += 1
            switch opcode {
            case 0x80:  // PROTO
                let version = try reader.uint8(position, "protocol")
                guard (2...5).contains(version) else {
                    throw .malformedPickle(location(at), detail: "pickle protocol \(version) (torch.save writes 2)")
                }
                position += 1
            case 0x95:  // FRAME: a length hint only
                _ = try reader.uint64(position, "frame length"); position += 8
            case 0x2E:  // STOP
                return try pop(at)
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop(at)  // POP
            case 0x31: _ = try popMark(at)  // POP_MARK
            case 0x32:  // DUP
                let top = try popWithDepth(at); push(top.value, depth: top.depth); push(top.value, depth: top.depth)

            // Constants and numbers.
            case 0x4E: push(.none)
            case 0x88: push(.bool(true))
            case 0x89: push(.bool(false))
            case 0x4B: push(.int(Int(try reader.uint8(position, "BININT1")))); position += 1
            case 0x4D: push(.int(Int(try reader.uint16(position, "BININT2")))); position += 2
            case 0x4A: push(.int(Int(Int32(bitPattern: try reader.uint32(position, "BININT"))))); position += 4
            case 0x8A, 0x8B:  // LONG1, LONG4: little-endian two's complement
                let count = opcode == 0x8A
                    ? Int(try reader.uint8(position, "LONG1 length"))
                    : try length(UInt64(try reader.uint32(position, "LONG4 length")), at)
                position += opcode == 0x8A ? 1 : 4
                guard count <= 8 else {
                    throw .malformedPickle(location(at), detail: "integer of \(count) bytes does not fit 64 bits")
                }
                let digits = try reader.slice(position, count, "long")
                position += count
                var value: UInt64 = 0
                for (i, byte) in digits.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
                if count > 0 && count < 8 && (digits.last ?? 0) & 0x80 != 0 { value |= ~0 << (8 * UInt64(count)) }
                push(.int(Int(Int64(bitPattern: value))))
            case 0x47:  // BINFLOAT: big-endian double
                let slice = try reader.slice(position, 8, "BINFLOAT")
                position += 8
                push(.float(Double(bitPattern: slice.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))

            // Strings and bytes.
            case 0x58, 0x8C, 0x8D:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let (count, width): (Int, Int) = switch opcode {
                case 0x8C: (Int(try reader.uint8(position, "string length")), 1)
                case 0x58: (try length(UInt64(try reader.uint32(position, "string length")), at), 4)
                default: (try length(try reader.uint64(position, "string length"), at), 8)
                }
                position += width
                push(.string(try text(position, count, at)))
                position += count
            case 0x55, 0x54:  // SHORT_BINSTRING, BINSTRING (Python 2 str): decoded as Latin-1
                let count = opcode == 0x55
                    ? Int(try reader.uint8(position, "string length"))
                    : try length(UInt64(try reader.uint32(position, "string length")), at)
                position += opcode == 0x55 ? 1 : 4
                let slice = try reader.slice(position, count, "string")
                position += count
                push(.string(String(slice.map { Character(Unicode.Scalar($0)) })))
            case 0x43, 0x42, 0x8E, 0x96:  // SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8
                let (count, width): (Int, Int) = switch opcode {
                case 0x43: (Int(try reader.uint8(position, "bytes length")), 1)
                case 0x42: (try length(UInt64(try reader.uint32(position, "bytes length")), at), 4)
                default: (try length(try reader.uint64(position, "bytes length"), at), 8)
                }
                position += width
                push(.bytes(Array(try reader.slice(position, count, "bytes"))))
                position += count

            // Containers.
            case 0x29: push(.tuple([]), depth: 1)
            case 0x74:  // TUPLE
                let (items, deepest) = try popMarkWithDepth(at)
                let depth = try containerDepth(deepest, at)
                nest(items)
                push(.tuple(items), depth: depth)
            case 0x85, 0x86, 0x87:  // TUPLE1..3
                let n = Int(opcode - 0x84)
                guard stack.count >= n else { throw .malformedPickle(location(at), detail: "stack underflow") }
                let depth = try containerDepth(depths.suffix(n).max() ?? 0, at)
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                depths.removeLast(n)
                nest(items)
                push(.tuple(items), depth: depth)
            case 0x5D: push(.list(PickleList()), depth: 1)
            case 0x6C:  // LIST
                let (items, deepest) = try popMarkWithDepth(at)
                let depth = try containerDepth(deepest, at)
                nest(items)
                push(.list(PickleList(items, depth: depth)), depth: depth)
            case 0x7D: push(.dict(PickleDict()), depth: 1)
            case 0x64:  // DICT
                let (items, deepest) = try popMarkWithDepth(at)
                let depth = try containerDepth(deepest, at)
                let dict = try Self.dict(from: items, location(at))
                dict.depth = depth
                nest(items)
                push(.dict(dict), depth: depth)
            case 0x61:  // APPEND
                let (value, depth) = try popWithDepth(at)
                guard case .list(let list) = stack.last else {
                    throw .malformedPickle(location(at), detail: "APPEND to a \(stack.last?.kind ?? "nothing")")
                }
                nest([value])  // first, so that appending a list to itself is refused below
                try requireUnnested(.list(list), at)
                try deepenTop(depth, at)
                list.items.append(value)
            case 0x65:  // APPENDS
                let (items, deepest) = try popMarkWithDepth(at)
                guard case .list(let list) = stack.last else {
                    throw .malformedPickle(location(at), detail: "APPENDS to a \(stack.last?.kind ?? "nothing")")
                }
                nest(items)
                try requireUnnested(.list(list), at)
                try deepenTop(deepest, at)
                list.items.append(contentsOf: items)
            case 0x73:  // SETITEM
                let (value, valueDepth) = try popWithDepth(at), (key, keyDepth) = try popWithDepth(at)
                guard case .dict(let dict) = stack.last else {
                    throw .malformedPickle(location(at), detail: "SETITEM on a \(stack.last?.kind ?? "nothing")")
                }
                nest([key, value])
                try requireUnnested(.dict(dict), at)
                try deepenTop(max(keyDepth, valueDepth), at)
                dict.set(key, value)
            case 0x75:  // SETITEMS
                let (items, deepest) = try popMarkWithDepth(at)
                guard case .dict(let dict) = stack.last, items.count % 2 == 0 else {
                    throw .malformedPickle(location(at), detail: "SETITEMS on a \(stack.last?.kind ?? "nothing") with \(items.count) items")
                }
                nest(items)
                try requireUnnested(.dict(dict), at)
                try deepenTop(deepest, at)
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }

            // Memo.
            case 0x71, 0x72, 0x94:  // BINPUT, LONG_BINPUT, MEMOIZE
                guard let top = stack.last, let depth = depths.last else {
                    throw .malformedPickle(location(at), detail: "memoizing an empty stack")
                }
                let index: Int
                switch opcode {
                case 0x71: index = Int(try reader.uint8(position, "memo index")); position += 1
                case 0x72: index = Int(try reader.uint32(position, "memo index")); position += 4
                default: index = memo.count
                }
                memo[index] = (top, depth)
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let index = opcode == 0x68 ? Int(try reader.uint8(position, "memo index")) : Int(try reader.uint32(position, "memo index"))
                position += opcode == 0x68 ? 1 : 4
                guard let entry = memo[index] else {
                    throw .malformedPickle(location(at), detail: "memo entry \(index) was never stored")
                }
                // A list or dict may have grown since it was memoized; its own depth is current.
                push(entry.value, depth: entry.value.containerDepth ?? entry.depth)

            // Globals, calls and persistent ids: only the allow-list, interpreted here.
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line(from: &position, at)
                let name = try line(from: &position, at)
                push(try global(module, name, at))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(at), module = try pop(at)
                guard let m = module.stringValue, let n = name.stringValue else {
                    throw .malformedPickle(location(at), detail: "STACK_GLOBAL needs two strings")
                }
                push(try global(m, n, at))
            case 0x52:  // REDUCE
                // The result holds at most what its arguments held (an OrderedDict of their pairs, a tensor).
                let (arguments, depth) = try popWithDepth(at), callable = try pop(at)
                let result = try reduce(callable, arguments, location(at))
                result.setContainerDepth(depth)
                push(result, depth: result.containerDepth ?? 0)
            case 0x62:  // BUILD: only the instance state of an OrderedDict (`_metadata`) or a tensor, ignored
                let state = try pop(at)
                switch stack.last {
                case .dict, .tensor: break
                default:
                    throw .malformedPickle(location(at), detail: "BUILD with \(state.kind) state on a \(stack.last?.kind ?? "nothing")")
                }
            case 0x51:  // BINPERSID
                let pid = try pop(at)
                push(try persistentLoad(pid, location(at)))

            default:
                throw .unsupportedOpcode(location(at), opcode: opcode, name: PickleOpcode.name(opcode))
            }
        }
    }

    /// A newline-terminated ASCII argument of `GLOBAL`.
    private func line(from position: inout Int, _ at: Int) throws(ArtifactError) -> String {
        let bytes = reader.bytes
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw .truncated(reader.location(at), what: "GLOBAL argument", needed: 1, available: 0)
        }
        let text = String(decoding: bytes[position..<end], as: UTF8.self)
        position = end + 1
        return text
    }

    private func global(_ module: String, _ name: String, _ at: Int) throws(ArtifactError) -> PickleValue {
        guard PickleAllowList.allows(module: module, name: name) else {
            throw .forbiddenGlobal(reader.location(at), module: module, name: name)
        }
        return .global(module: module, name: name)
    }

    private static func dict(from items: [PickleValue], _ location: InputLocation) throws(ArtifactError) -> PickleDict {
        guard items.count % 2 == 0 else {
            throw .malformedPickle(location, detail: "DICT with an odd number of items")
        }
        let dict = PickleDict()
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
        return dict
    }

    /// Applies an allow-listed function to its arguments by interpreting it.
    private func reduce(_ callable: PickleValue, _ arguments: PickleValue, _ location: InputLocation) throws(ArtifactError) -> PickleValue {
        guard case .global(let module, let name) = callable,
              let function = PickleAllowList.function(module: module, name: name) else {
            throw .malformedPickle(location, detail: "REDUCE calls a \(callable.kind), which is not callable here")
        }
        guard case .tuple(let args) = arguments else {
            throw .malformedPickle(location, detail: "REDUCE arguments are a \(arguments.kind), not a tuple")
        }
        func bad(_ detail: String) -> ArtifactError { .malformedPickle(location, detail: "\(module).\(name): \(detail)") }
        func ints(_ value: PickleValue) -> [Int]? {
            value.tupleValue.flatMap { items in
                let values = items.compactMap { item -> Int? in if case .int(let i) = item { i } else { nil } }
                return values.count == items.count ? values : nil
            }
        }
        switch function {
        case .orderedDict:
            let dict = PickleDict()
            if let pairs = args.first {
                guard let items = pairs.tupleValue else { throw bad("argument is a \(pairs.kind)") }
                for pair in items {
                    guard let kv = pair.tupleValue, kv.count == 2 else { throw bad("item is not a pair") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case .rebuildTensorV2, .rebuildTensor:
            guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1],
                  let shape = ints(args[2]), let strides = ints(args[3]) else {
                throw bad("expects (storage, offset, size, stride, ...), got (\(args.map(\.kind).joined(separator: ", ")))")
            }
            return .tensor(try TensorReference(storage: storage, storageOffset: offset, shape: shape,
                                               strides: strides, location: location))
        case .rebuildTensorV3:
            guard args.count >= 7, case .storage(let untyped) = args[0], untyped.dtype == .uint8,
                  case .int(let offset) = args[1], let shape = ints(args[2]), let strides = ints(args[3]),
                  case .global("torch", let dtypeName) = args[6], let dtype = TorchDType(torchName: dtypeName) else {
                throw bad("expects (untyped storage, offset, size, stride, requires_grad, hooks, dtype), got (\(args.map(\.kind).joined(separator: ", ")))")
            }
            let typed = StorageReference(dtype: dtype, key: untyped.key, count: untyped.bytes.count / dtype.size, bytes: untyped.bytes)
            return .tensor(try TensorReference(storage: typed, storageOffset: offset, shape: shape,
                                               strides: strides, location: location))
        case .rebuildParameter:
            guard let tensor = args.first, case .tensor = tensor else { throw bad("expects a tensor") }
            return tensor
        case .codecsEncode:
            guard args.count == 2, let text = args[0].stringValue, let encoding = args[1].stringValue,
                  ["latin1", "latin-1"].contains(encoding.lowercased()) else {
                throw bad("only latin-1 encoding of a string is read")
            }
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw bad("character U+\(String(scalar.value, radix: 16)) is not latin-1") }
                bytes.append(UInt8(scalar.value))
            }
            return .bytes(bytes)
        }
    }
}
