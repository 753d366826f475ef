/// Small inline SVG charts for the HTML report: drawn from numbers only, no scripts, no fonts
/// fetched, fixed decimals so the same audit gives the same markup.
enum SVGPlots {
    static let width = 720.0

    /// Horizontal bars against a vertical limit line (the size breakdown against the cap).
    /// Each bar is a list of (label, value, color) segments stacked left to right.
    static func stackedBars(_ bars: [(label: String, segments: [(String, Double, String)])], limit: Double, limitLabel: String) -> String {
        let left = 170.0, right = 100.0, rowHeight = 34.0, top = 26.0
        let height = top + Double(bars.count) * rowHeight + 44
        let maximum = max(limit * 1.08, bars.map { $0.segments.reduce(0) { $0 + $1.1 } }.max() ?? 0)
        let scale = (width - left - right) / maximum
        var svg = header(height: height, title: "size breakdown against the cap")
        for (index, bar) in bars.enumerated() {
            let y = top + Double(index) * rowHeight
            svg += text(x: left - 8, y: y + 16, bar.label, anchor: "end")
            var x = left
            for (name, value, color) in bar.segments where value > 0 {
                let w = max(value * scale, 2)  // tiny segments stay visible
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"22\" fill=\"\(color)\"><title>\(HTMLText.escape(name)): \(AuditFormat.grouped(Int(value))) bytes</title></rect>\n"
                x += w
            }
            let total = bar.segments.reduce(0) { $0 + $1.1 }
            let share = AuditFormat.fixed(total / limit * 100, digits: total / limit < 0.01 ? 3 : 1)
            svg += text(x: width - 8, y: y + 10, AuditFormat.grouped(Int(total)), anchor: "end", size: 11)
            svg += text(x: width - 8, y: y + 23, "\(share)% of cap", anchor: "end", size: 10, color: "#666")
        }
        let limitX = left + limit * scale
        let bottom = top + Double(bars.count) * rowHeight
        svg += "<line x1=\"\(f(limitX))\" y1=\"\(f(top - 8))\" x2=\"\(f(limitX))\" y2=\"\(f(bottom))\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
        svg += text(x: limitX, y: bottom + 18, limitLabel, anchor: "middle", size: 11, color: "#c0392b")
        var legendX = left
        var seen: Set<String> = []
        for bar in bars {
            for (name, _, color) in bar.segments where seen.insert(name).inserted {
                svg += "<rect x=\"\(f(legendX))\" y=\"\(f(bottom + 28))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>\n"
                svg += text(x: legendX + 14, y: bottom + 37, name, anchor: "start", size: 11)
                legendX += 24 + Double(name.count) * 6.5
            }
        }
        return svg + "</svg>\n"
    }

    /// Dots (one per run) on a vertical value axis, with labelled horizontal reference lines.
    static func dots(_ points: [(label: String, value: Double, color: String)], references: [(String, Double, String)],
                     unit: String, title: String) -> String {
        let left = 70.0, right = 190.0, top = 20.0, plotHeight = 200.0
        let values = points.map(\.value) + references.map(\.1)
        guard let low = values.min(), let high = values.max() else { return "" }
        let pad = max((high - low) * 0.15, 0.0005)
        let minimum = low - pad, maximum = high + pad
        func y(_ value: Double) -> Double { top + (maximum - value) / (maximum - minimum) * plotHeight }
        let step = (width - left - right) / Double(max(points.count, 1))
        var svg = header(height: top + plotHeight + 50, title: title)
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"#888\"/>\n"
        for tick in 0...4 {
            let value = minimum + (maximum - minimum) * Double(tick) / 4
            svg += text(x: left - 6, y: y(value) + 4, AuditFormat.fixed(value, digits: 4), anchor: "end", size: 10)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(value)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(value)))\" stroke=\"#eee\"/>\n"
        }
        var lastLabelY = -Double.infinity
        for (name, value, color) in references.sorted(by: { $0.1 > $1.1 }) {
            let labelY = max(y(value) + 4, lastLabelY + 13)
            lastLabelY = labelY
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(value)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(value)))\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n"
            svg += text(x: width - right + 6, y: labelY, "\(name) \(AuditFormat.fixed(value, digits: 4))", anchor: "start", size: 10, color: color)
        }
        for (index, point) in points.enumerated() {
            let x = left + step * (Double(index) + 0.5)
            svg += "<circle cx=\"\(f(x))\" cy=\"\(f(y(point.value)))\" r=\"5\" fill=\"\(point.color)\"><title>\(HTMLText.escape(point.label)): \(AuditFormat.fixed(point.value, digits: 6)) \(unit)</title></circle>\n"
            svg += text(x: x, y: top + plotHeight + 16, point.label, anchor: "middle", size: 10)
        }
        svg += text(x: 14, y: top + plotHeight / 2, unit, anchor: "middle", size: 11, rotate: true)
        return svg + "</svg>\n"
    }

    /// A line through (x, y) points (bpb along the validation stream).
    static func line(_ points: [(x: Double, y: Double)], xLabel: String, yLabel: String, title: String) -> String {
        let left = 70.0, right = 30.0, top = 20.0, plotHeight = 200.0
        guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max(),
              let minY = points.map(\.y).min(), let maxY = points.map(\.y).max() else { return "" }
        let spanX = max(maxX - minX, 1e-9), spanY = max(maxY - minY, 1e-9)
        func px(_ x: Double) -> Double { left + (x - minX) / spanX * (width - left - right) }
        func py(_ y: Double) -> Double { top + (maxY - y) / spanY * plotHeight }
        var svg = header(height: top + plotHeight + 44, title: title)
        let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
        svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#2c6fbb\" stroke-width=\"1.5\"/>\n"
        svg += text(x: left - 6, y: py(maxY) + 4, AuditFormat.fixed(maxY, digits: 4), anchor: "end", size: 10)
        svg += text(x: left - 6, y: py(minY) + 4, AuditFormat.fixed(minY, digits: 4), anchor: "end", size: 10)
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotHeight))\" stroke=\"#888\"/>\n"
        svg += text(x: left, y: top + plotHeight + 14, AuditFormat.grouped(Int(minX)), anchor: "start", size: 10)
        svg += text(x: width - right, y: top + plotHeight + 14, AuditFormat.grouped(Int(maxX)), anchor: "end", size: 10)
        svg += text(x: (left + width - right) / 2, y: top + plotHeight + 30, xLabel, anchor: "middle", size: 11)
        svg += text(x: 14, y: top + plotHeight / 2, yLabel, anchor: "middle", size: 11, rotate: true)
        return svg + "</svg>\n"
    }

    private static func header(height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(HTMLText.escape(title))\" font-family=\"sans-serif\">\n"
    }

    private static func text(x: Double, y: Double, _ content: String, anchor: String, size: Int = 12,
                             color: String = "#333", rotate: Bool = false) -> String {
        let transform = rotate ? " transform=\"rotate(-90 \(f(x)) \(f(y)))\"" : ""
        return "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"\(color)\"\(transform)>\(HTMLText.escape(content))</text>\n"
    }

    static func f(_ value: Double) -> String { AuditFormat.fixed(value, digits: 1) }
}

/// HTML escaping of text from submissions.
enum HTMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
