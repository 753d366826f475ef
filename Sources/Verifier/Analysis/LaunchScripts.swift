import Foundation

extension SubmissionDocuments {
    /// The text of the folder's shell scripts (at most 1 MB each), named relative to `folder`,
    /// the folder these documents were read from.
    func shellScriptTexts(folder: String) -> [NamedText] {
        shellScripts.compactMap { name in
            guard let handle = FileHandle(forReadingAtPath: (folder as NSString).appendingPathComponent(name)) else { return nil }
            defer { try? handle.close() }
            guard let data = try? handle.read(upToCount: 1 << 20) else { return nil }
            return NamedText(name: name, text: String(decoding: data, as: UTF8.self))
        }
    }

    /// `NAME=value` set by a command of the folder's shell scripts (`NAME=1 \` before `torchrun`,
    /// `export NAME=1`; not in comments or `echo` lines, and not `${NAME:-1}`): on when a command
    /// sets it on, off when every command that sets it sets it off; nil when none does.
    func scriptSetting(of variable: String, folder: String) -> FeatureSetting? {
        var off: FeatureSetting?
        for script in shellScriptTexts(folder: folder) {
            for (number, rawLine) in script.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                guard !line.hasPrefix("#"), !line.hasPrefix("echo ") else { continue }
                for token in line.split(whereSeparator: { " \t`;\"'".contains($0) }) where token.hasPrefix(variable + "=") {
                    let value = token.dropFirst(variable.count + 1).lowercased()
                    let citation = "\(script.name):\(number + 1): `\(line)`"
                    switch Self.isOn(value) {
                    case true?: return .on(evidence: citation)
                    case false?: off = off ?? .off(evidence: citation)
                    case nil: break
                    }
                }
            }
        }
        return off
    }
}
