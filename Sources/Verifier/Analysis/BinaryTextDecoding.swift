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
}
