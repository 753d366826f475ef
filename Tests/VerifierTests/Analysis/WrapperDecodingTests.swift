import Foundation
import Testing
@testable import Verifier

/// Decoders against vectors produced by CPython's `base64`, `lzma` and `zlib` (see the
/// expected strings: `base64.b85encode(b"hello world")` etc., computed with Python 3.11).
@Suite struct WrapperDecodingTests {
    let sample = Array(stride(from: 0, to: 256, by: 7).map { UInt8($0) })

    @Test func base85MatchesPython() throws {
        #expect(try BinaryTextDecoding.base85(Array("".utf8)) == [])
        #expect(try BinaryTextDecoding.base85(Array("VE".utf8)) == Array("a".utf8))
        #expect(try BinaryTextDecoding.base85(Array("Xk~0{Zy<MXa%^M".utf8)) == Array("hello world".utf8))
        #expect(try BinaryTextDecoding.base85(Array("00#~g93v_*I6p>BR9j+caCd%%jFXz7sIRuY#LLpz;OFl3`~".utf8)) == sample)
    }

    @Test func base85RejectsForeignCharacters() {
        #expect(throws: BinaryTextDecoding.Invalid.self) { try BinaryTextDecoding.base85(Array("ab\"cd".utf8)) }
    }

    @Test func base64MatchesPython() throws {
        #expect(try BinaryTextDecoding.base64(Array("YQ==".utf8)) == Array("a".utf8))
        #expect(try BinaryTextDecoding.base64(Array("aGVsbG8gd29ybGQ=".utf8)) == Array("hello world".utf8))
        #expect(try BinaryTextDecoding.base64(Array("AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/A==".utf8)) == sample)
        // Python skips characters outside the alphabet (newlines in wrapped literals).
        #expect(try BinaryTextDecoding.base64(Array("aGVsbG8g\nd29ybGQ=".utf8)) == Array("hello world".utf8))
    }

    let expected = Array(String(repeating: "pgverify ", count: 20).utf8)

    @Test func lzmaRawLZMA2MatchesPython() throws {
        let blob = try BinaryTextDecoding.base64(Array("4ACzABBdADgZyzLoVDQdiRaqUTLIAAAA".utf8))
        #expect(try WrapperDecompression.lzma(blob, format: .rawLZMA2(dictionarySize: 8 << 20)) == expected)
    }

    @Test func lzmaXZMatchesPython() throws {
        let blob = try BinaryTextDecoding.base64(Array(
            "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4ACzABBdADgZyzLoVDQdiRaqUTLIAAAAomidQlHd4uIAASy0AQAAACHYwO6xxGf7AgAAAAAEWVo=".utf8))
        #expect(try WrapperDecompression.lzma(blob, format: .auto) == expected)
    }

    @Test func zlibMatchesPython() throws {
        let blob = try BinaryTextDecoding.base64(Array("eJwrSC9LLcpMq1QoGDoMACz7RvE=".utf8))
        #expect(try WrapperDecompression.zlib(blob) == expected)
    }

    @Test func corruptStreamsAreTypedFailures() {
        #expect(throws: WrapperDecompression.Failure.self) { try WrapperDecompression.lzma([1, 2, 3, 4, 5, 6], format: .auto) }
        #expect(throws: WrapperDecompression.Failure.self) { try WrapperDecompression.zlib([0x78, 0x9c, 0xff, 0xff]) }
    }

    /// Each wrapper form decodes to exactly `inner.py`, and findings carry inner line numbers.
    @Test(arguments: ["wrappers/zlib_base64.py", "wrappers/codecs_xz.py", "PG-WRAPPED-SOURCE/illegal.py",
                      "wrappers/brotli_base85.py", "wrappers/ascii85_zlib_compile.py", "wrappers/hex_gzip.py"])
    func wrappersDecodeToInnerSource(_ fixture: String) throws {
        let linter = Linter(parser: try PythonParser())
        let path = Paths.fixture("lint/" + fixture).path
        let modules = try linter.analyze(files: [path])
        let inner = try String(contentsOf: Paths.fixture("lint/wrappers/inner.py"), encoding: .utf8)
        #expect(modules.count == 2)
        #expect(modules.first?.wrappers.first?.innerSource == inner)
        #expect(modules.last?.wrapper?.line == 2)
        let findings = try linter.lint(files: [path])
        let hash = findings.filter { $0.rule == TargetInHashKey.descriptor.id }
        #expect(hash.map(\.line) == [8])
        #expect(hash.first?.decodedFromLine == 2)
        #expect(hash.first?.file == path)
        #expect(findings.filter { $0.rule == WrappedSource.descriptor.id }.map(\.line) == [2])
    }

    @Test func ascii85AndHexMatchPython() throws {
        #expect(try BinaryTextDecoding.ascii85(Array("BOu!rD]j7BEbo7".utf8)) == Array("hello world".utf8))
        #expect(try BinaryTextDecoding.ascii85(Array("!!`uK*$Zpf3'Tl,<*NgGE-HbbN0B^(W3<YC`66T^i90P$qu".utf8)) == sample)
        #expect(try BinaryTextDecoding.ascii85(Array("z@:B".utf8)) == [0, 0, 0, 0] + Array("ab".utf8))
        #expect(try BinaryTextDecoding.hex(Array("00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc".utf8)) == sample)
        #expect(throws: BinaryTextDecoding.Invalid.self) { try BinaryTextDecoding.hex(Array("0g".utf8)) }
        #expect(throws: BinaryTextDecoding.Invalid.self) { try BinaryTextDecoding.ascii85(Array("ab~cd".utf8)) }
    }

    /// A payload split over module-level literals (`_DATA = ("...", "...")`, `"".join(_DATA)`).
    @Test func splitLiteralPayloadDecodes() throws {
        let linter = Linter(parser: try PythonParser())
        let modules = try linter.analyze(files: [Paths.fixture("lint/wrappers/split_literal.py").path])
        let inner = try String(contentsOf: Paths.fixture("lint/wrappers/inner.py"), encoding: .utf8)
        #expect(modules.count == 2)
        #expect(modules.first?.wrappers.first?.innerSource == inner)
        #expect(modules.first?.opaqueCode == [])
    }

    /// zlib+base64 around a brotli+base85 wrapper: both layers are decoded and analysed.
    @Test func nestedWrappersDecode() throws {
        let linter = Linter(parser: try PythonParser())
        let path = Paths.fixture("lint/wrappers/nested.py").path
        let modules = try linter.analyze(files: [path])
        let inner = try String(contentsOf: Paths.fixture("lint/wrappers/inner.py"), encoding: .utf8)
        #expect(modules.count == 3)
        #expect(modules.last?.tree.children("body").isEmpty == false)
        #expect(modules[1].wrappers.first?.innerSource == inner)
        let findings = try linter.lint(files: [path])
        #expect(findings.filter { $0.rule == TargetInHashKey.descriptor.id }.map(\.line) == [8])
        #expect(findings.filter { $0.rule == UnreadCode.descriptor.id }.isEmpty)
    }

    @Test func undecodableWrapperIsBadInput() throws {
        let linter = Linter(parser: try PythonParser())
        let path = Paths.fixture("lint/wrappers/corrupt.py").path
        #expect(throws: LintError.self) { try linter.lint(files: [path]) }
        do {
            _ = try linter.lint(files: [path])
        } catch let error as LintError {
            guard case .undecodableWrapper(let file, let line, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(file == path)
            #expect(line == 2)
        }
    }
}
