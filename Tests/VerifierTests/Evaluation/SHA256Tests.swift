import Foundation
import Testing
import Verifier

/// pgverify's SHA-256 against the FIPS 180-4 example digests, and a file read in pieces against the
/// same bytes hashed whole.
@Suite struct SHA256Tests {
    @Test("FIPS 180-4 examples: empty, 'abc', the two-block message, a million 'a'")
    func standardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("a file is hashed in pieces to the digest of its bytes, across block and piece boundaries",
          arguments: [0, 1, 55, 56, 63, 64, 65, (1 << 20) - 1, 1 << 20, (1 << 20) + 77])
    func fileMatchesBytes(length: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-sha-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try SHA256.hex(file: file) == SHA256.hex(bytes))
    }
}
