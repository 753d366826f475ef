import Foundation
import Testing
@testable import Verifier

/// PG-TARGET-GATED-EXPERT in native sources (the C scanner) and the scanner's behaviour on
/// hostile input. The Python forms are in `fixtures/lint/PG-TARGET-GATED-EXPERT` and the mutation set.
@Suite struct TargetGatedExpertTests {
    static let folder = Paths.fixture("native/target-gated-expert")

    static func marked(_ path: URL, _ marker: String) throws -> [Int] {
        try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().filter { $0.element.contains(marker) }.map { $0.offset + 1 }
    }

    /// The within-word expert that Python calls is a warning, the one nothing names a note; the
    /// token-level expert and the byte counter are clean.
    @Test func nativeExpertsAreJudgedByTheirGates() throws {
        let findings = try Linter(parser: try PythonParser()).lint(paths: [Self.folder.path])
            .filter { $0.rule == TargetGatedExpert.descriptor.id }
        let source = Self.folder.appendingPathComponent("ngram_state.c")
        let warnings = try Self.marked(source, "// expect: PG-TARGET-GATED-EXPERT")
        let notes = try Self.marked(source, "// expect-note: PG-TARGET-GATED-EXPERT")
        #expect(findings.filter { $0.severity == .warning }.map(\.line) == warnings)
        #expect(findings.filter { $0.severity == .note }.map(\.line) == notes)
        #expect(findings.allSatisfy { $0.file.hasSuffix("ngram_state.c") })
        let warning = try #require(findings.first { $0.severity == .warning })
        #expect(warning.message.contains("expert_process writes `valid[i]`, `top_token[i]`"))
        #expect(warning.message.contains("condition at line 18"))
        #expect(warning.message.contains("(line 17)"))
        #expect(warning.message.contains("(line 25)"))
    }

    /// The scanner's statements for the gated loop: the element, the property, the writes under
    /// the condition, and the state update after them.
    @Test func scannerDescribesTheLoop() throws {
        let scanner = CLoopScanner(source: """
            int f(const unsigned short *tokens, long n, const unsigned char *lut, unsigned char *valid, State *st) {
                for (long i = 0; i < n; ++i) {
                    unsigned short tok = tokens[i]; /* the element */
                    unsigned char b = lut[tok];
                    if (!b) valid[i] = st->seen; else { valid[i] = 0; }
                    push(st, tok);
                }
                return 0;
            }
            """)
        let loops = scanner.loops()
        #expect(loops.count == 1)
        let loop = try #require(loops.first)
        #expect(loop.function == "f" && loop.definitionLine == 1 && loop.line == 2)
        #expect(loop.statements.map(\.kind) == [.bind("tok"), .bind("b"), .positionWrite(array: "valid"),
                                                .positionWrite(array: "valid"), .stateUpdate])
        #expect(loop.statements[0].reads == ["tokens[]"])
        #expect(loop.statements[1].lookups == ["tok"])
        #expect(loop.statements[2].gates.map(\.line) == [5])
        let gated = TargetGatedLoops.gatedWrites(loop.statements)
        #expect(gated == [TargetGatedWrite(arrays: ["valid"], writeLine: 5, conditionLine: 5, propertyLine: 4, stateLine: 6)])
    }

    /// The same loop with the token pushed before the hint: the hint is for the next position.
    @Test func hintWrittenAfterTheTokenEntersTheStateIsClean() {
        let scanner = CLoopScanner(source: """
            void f(const int *tokens, int n, const int *lut, int *out, S *st) {
                for (int i = 0; i < n; i++) { int t = tokens[i]; push(st, t); if (lut[t]) out[i] = st->top; }
            }
            """)
        #expect(scanner.loops().flatMap { TargetGatedLoops.gatedWrites($0.statements) }.isEmpty)
    }

    /// Unbalanced, deeply nested, unterminated and binary input ends without a trap, in bounded time.
    static let hostileSources: [String: String] = [
        "200,000 open braces": String(repeating: "{", count: 200_000),
        "50,000 nested ifs in a loop": "int f(int *t, int n, int *o) { for (int i = 0; i < n; i++) "
            + String(repeating: "{ if (t[i]) ", count: 50_000),
        "100,000 else-ifs": "int f(int *t) { for (int i = 0; i < 9; i++) { x = t[i]; "
            + String(repeating: "if (x) o[i] = s; else ", count: 100_000) + "; } }",
        "unterminated comment": "/* never closed " + String(repeating: "for (i = 0; ", count: 1_000),
        "unterminated string and macro": "\"never closed\n#define X \\\n",
        "binary": String(decoding: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }, as: UTF8.self),
        "stray closers": ")))]]]}}} for ( ; ; ) { } int g() { for (int i = 0;) }",
    ]

    @Test(arguments: hostileSources.keys.sorted())
    func hostileSourceEndsQuietly(_ name: String) throws {
        let scanner = CLoopScanner(source: try #require(Self.hostileSources[name]))
        let loops = scanner.loops()
        _ = loops.map { TargetGatedLoops.gatedWrites($0.statements) }
        #expect(scanner.partner.count == scanner.tokens.count)
    }
}
