import Foundation
import Verifier

#if PGVERIFY_LIBFUZZER
// Built by scripts/fuzz.sh with `-sanitize=fuzzer,address`: libFuzzer supplies `main` and calls
// this entry with each input; the target comes from PGVERIFY_FUZZ_TARGET.

private let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["PGVERIFY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("PGVERIFY_FUZZ_TARGET must be one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    // A typed error is the reader refusing the input, as it should; only crashes are findings.
    _ = try? selectedTarget.run(bytes)
    return 0
}
#else
/// Without libFuzzer: replays inputs through a target and prints how each ended, for reproducing
/// a finding without the sanitizer build: `pgverify-fuzz TARGET FILE...`.
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: pgverify-fuzz \(names) FILE...\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): unreadable")
                continue
            }
            do {
                try target.run([UInt8](data))
                print("\(path): read")
            } catch {
                print("\(path): \(type(of: error)): \(error)")
            }
        }
    }
}
#endif
