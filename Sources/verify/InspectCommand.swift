import ArgumentParser

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Not implemented yet.")

    @Argument(help: "Input path(s).") var paths: [String] = []

    func run() throws { throw NotImplemented(feature: "verify inspect") }
}
