import ArgumentParser

struct Size: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "size", abstract: "Not implemented yet.")

    @Argument(help: "Input path(s).") var paths: [String] = []

    func run() throws { throw NotImplemented(feature: "verify size") }
}
