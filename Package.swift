// swift-tools-version: 6.1
import PackageDescription

// System libraries come from Debian's -dev packages; scripts/install-system-deps.sh installs them.
let package = Package(
    name: "pgverify",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "verify", targets: ["verify"]),
        .library(name: "Reference", targets: ["Reference"]),
        .library(name: "Verifier", targets: ["Verifier"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlidec", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),

        // Our own CRC-32 by carry-less multiplication (x86-64), for ZIP entry checks.
        .target(name: "CChecksum"),
        // Starts helper programs (python3, lrzip) with kernel limits, in their own process group,
        // killed with pgverify: what Foundation's Process cannot do between fork and exec.
        .target(name: "CChildProcess"),

        // Our own model and evaluation; knows nothing of submissions.
        // Optimised even in debug builds: the evaluator's loops run 20-50x slower unoptimised, which
        // would make the golden tests (65,536-token evaluations) take minutes.
        .target(
            name: "Reference", dependencies: ["COpenBLAS"],
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // Submissions, artifacts, dequantizers, static analysis, audit and reports.
        .target(
            name: "Verifier",
            dependencies: ["Reference", "CZstd", "CLZMA", "CZlib", "CBrotli", "CChecksum", "CChildProcess"]
        ),
        .executableTarget(
            name: "verify",
            dependencies: [
                "Verifier", "Reference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Replays inputs through the fuzz entries (Verifier's FuzzTarget); scripts/fuzz.sh builds it
        // with -sanitize=fuzzer,address -DPGVERIFY_LIBFUZZER as the libFuzzer binary.
        .executableTarget(name: "pgverify-fuzz", dependencies: ["Verifier"]),

        .testTarget(name: "ReferenceTests", dependencies: ["Reference"]),
        .testTarget(name: "VerifierTests", dependencies: ["Verifier", "Reference"]),
    ]
)
