import Foundation

/// Locations the tests read from: the package's committed `fixtures/`, and the team's shared data
/// (`../shared` beside the checkout, as in CI; `PGVERIFY_SHARED` overrides it).
enum Paths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = packageRoot.appendingPathComponent("fixtures")

    static var shared: URL {
        if let override = ProcessInfo.processInfo.environment["PGVERIFY_SHARED"] {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static func fixture(_ relative: String) -> URL { fixtures.appendingPathComponent(relative) }
    static func shared(_ relative: String) -> URL { shared.appendingPathComponent(relative) }
}
