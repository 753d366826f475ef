/// Decoders for the text encodings self-extracting submissions wrap their code in, matching
/// Python's `base64.b85decode` and `base64.b64decode`.
public enum BinaryTextDecoding {
    /// Why a text blob is not valid in its encoding.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at character \(offset)" }
    }

    private static let base85Alphabet = Array(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~".utf8)

    private static let base85Values: [Int16] = {
        var table = [Int16](repeating: -1, count: 256)
        for (value, byte) in base85Alphabet.enumerated() { table[Int(byte)] = Int16(value) }
        return table
    }()

    /// RFC 1924 / git base85 as Python's `b85decode`: groups of 5 characters make 4 big-endian
    /// bytes; a short last group is padded with the highest digit and the padding bytes dropped.
    public static func base85(_ text: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 5 * 4 + 4)
        var index = 0
        while index < text.count {
            let groupLength = min(5, text.count - index)
            var accumulator: UInt64 = 0
            for position in 0..<5 {
                let digit: Int16
                if position < groupLength {
                    digit = base85Values[Int(text[index + position])]
                    if digit < 0 {
                        throw Invalid(offset: index + position, reason: "not a base85 character")
                    }
                } else {
                    digit = 84
                }
                accumulator = accumulator * 85 + UInt64(digit)
            }
            guard accumulator <= UInt64(UInt32.max) else {
                throw Invalid(offset: index, reason: "base85 group overflows 32 bits")
            }
            let bytes: [UInt8] = [
                UInt8(accumulator >> 24 & 0xff), UInt8(accumulator >> 16 & 0xff),
                UInt8(accumulator >> 8 & 0xff), UInt8(accumulator & 0xff),
            ]
            output.append(contentsOf: bytes.prefix(groupLength == 5 ? 4 : groupLength - 1))
            index += 5
        }
        return output
    }

    private static let base64Values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(value) }
        return table
    }()

    /// Standard base64 as Python's `b64decode` without `validate`: characters outside the
    /// alphabet are skipped, decoding stops at padding; `urlsafe` swaps in `-` and `_`.
    public static func base64(_ text: [UInt8], urlsafe: Bool = false) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var digits = 0
        for byte in text {
            var symbol = byte
            if urlsafe {
                if symbol == UInt8(ascii: "-") { symbol = UInt8(ascii: "+") }
                else if symbol == UInt8(ascii: "_") { symbol = UInt8(ascii: "/") }
            }
            if symbol == UInt8(ascii: "=") { break }
            let value = base64Values[Int(symbol)]
            if value < 0 { continue }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            digits += 1
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(accumulator >> UInt32(bits) & 0xff))
            }
        }
        if digits % 4 == 1 {
            throw Invalid(offset: text.count, reason: "base64 length leaves a single dangling character")
        }
        return output
    }

    /// Adobe ascii85 as Python's `a85decode` without framing: groups of 5 characters from `!`
    /// to `u` make 4 big-endian bytes, `z` stands for four zero bytes, whitespace is skipped;
    /// a short last group is padded with `u` and the padding bytes dropped.
    public static func ascii85(_ text: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 5 * 4 + 4)
        var group: [UInt32] = []
        func flush(_ count: Int) throws {
            var accumulator: UInt64 = 0
            for position in 0..<5 { accumulator = accumulator * 85 + UInt64(position < count ? group[position] : 84) }
            guard accumulator <= UInt64(UInt32.max) else { throw Invalid(offset: output.count, reason: "ascii85 group overflows 32 bits") }
            let bytes: [UInt8] = [UInt8(accumulator >> 24 & 0xff), UInt8(accumulator >> 16 & 0xff),
                                  UInt8(accumulator >> 8 & 0xff), UInt8(accumulator & 0xff)]
            output.append(contentsOf: bytes.prefix(count == 5 ? 4 : count - 1))
            group.removeAll(keepingCapacity: true)
        }
        for (offset, byte) in text.enumerated() {
            switch byte {
            case 0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c: continue
            case UInt8(ascii: "z") where group.isEmpty: output.append(contentsOf: [0, 0, 0, 0])
            case UInt8(ascii: "!")...UInt8(ascii: "u"):
                group.append(UInt32(byte - UInt8(ascii: "!")))
                if group.count == 5 { try flush(5) }
            default:
                throw Invalid(offset: offset, reason: "not an ascii85 character")
            }
        }
        if group.count == 1 { throw Invalid(offset: text.count, reason: "ascii85 ends with a single dangling character") }
        if !group.isEmpty { try flush(group.count) }
        return output
    }

    /// Hexadecimal as Python's `bytes.fromhex` / `binascii.unhexlify`: pairs of hex digits
    /// (either case), whitespace between pairs skipped.
    public static func hex(_ text: [UInt8]) throws -> [UInt8] {
        func value(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 2)
        var high: UInt8?
        for (offset, byte) in text.enumerated() {
            if high == nil, [0x20, 0x09, 0x0a, 0x0d].contains(byte) { continue }
            guard let digit = value(byte) else { throw Invalid(offset: offset, reason: "not a hexadecimal digit") }
            if let first = high {
                output.append(first << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        if high != nil { throw Invalid(offset: text.count, reason: "odd number of hexadecimal digits") }
        return output
    }
}
