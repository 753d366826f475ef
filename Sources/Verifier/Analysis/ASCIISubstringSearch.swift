import Foundation

extension String {
    /// Whether `other` occurs in this string: the same answer as Foundation's `contains(_:)`,
    /// which this overload shadows inside the module.
    ///
    /// The analysis asks this of nearly every identifier and string literal it meets, and
    /// Foundation answers through `NSString` (a tenth of `verify lint`'s time on the corpus).
    /// When both strings are ASCII, as Python identifiers nearly always are, comparing bytes gives
    /// the same answer (no ASCII text has another canonically equivalent spelling); anything
    /// else still goes to Foundation.
    func contains(_ other: String) -> Bool {
        var haystack = self
        var needle = other
        let byteAnswer: Bool? = haystack.withUTF8 { text in
            needle.withUTF8 { pattern in Self.asciiContains(text, pattern) }
        }
        if let byteAnswer { return byteAnswer }
        return range(of: other) != nil
    }

    /// The byte-level answer when both are ASCII and `pattern` is not empty, nil otherwise.
    private static func asciiContains(_ text: UnsafeBufferPointer<UInt8>, _ pattern: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard let first = pattern.first, text.allSatisfy({ $0 < 0x80 }), pattern.allSatisfy({ $0 < 0x80 }) else {
            return nil
        }
        guard pattern.count <= text.count else { return false }
        var start = 0
        let lastStart = text.count - pattern.count
        while start <= lastStart {
            if text[start] == first {
                var matched = 1
                while matched < pattern.count, text[start + matched] == pattern[matched] { matched += 1 }
                if matched == pattern.count { return true }
            }
            start += 1
        }
        return false
    }
}
