import ArgumentParser

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Not implemented yet.")

    @Argument(help: "Input path(s).") var paths: [String] = []

    func run() throws { throw NotImplemented(feature: "verify eval") }
}
