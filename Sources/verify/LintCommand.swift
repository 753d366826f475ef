import ArgumentParser

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lint", abstract: "Not implemented yet.")

    @Argument(help: "Input path(s).") var paths: [String] = []

    func run() throws { throw NotImplemented(feature: "verify lint") }
}
