import Foundation

/// Number formatting shared by checks and reports: fixed decimals in the POSIX locale, so output
/// never depends on the machine's settings.
public enum AuditFormat {
    /// `value` with exactly `digits` decimals (`600.0`, `1.12345`).
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        return String(format: "%.\(digits)f", locale: Locale(identifier: "en_US_POSIX"), value)
    }

    /// A p-value: fixed below 0.0001 is shown in scientific notation.
    public static func pValue(_ value: Double) -> String {
        if value != 0, value < 1e-4 {
            return String(format: "%.2e", locale: Locale(identifier: "en_US_POSIX"), value)
        }
        return fixed(value, digits: 4)
    }

    /// An integer with thousands separators (`15,863,489`).
    public static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }
}
