import Foundation

/// The audit as one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched):
/// summary, checks, plots, runs, findings with excerpts of the cited lines, evidence.
extension AuditReport {
    /// Renders the page. `folder` is where code excerpts are read from (`nil`: no excerpts).
    public func html(folder: URL?) -> String {
        var body: [String] = []
        let outcome = verdict.outcome
        body.append("<header class=\"verdict \(outcome.rawValue.lowercased())\"><h1>\(outcome.rawValue)</h1>"
            + "<p><code>\(HTMLText.escape(subject))</code> · exit code \(verdict.exitStatus.rawValue)</p></header>")
        if !verdict.reasons.isEmpty {
            body.append("<section><h2>Why</h2><ul>" + verdict.reasons.map { "<li>\(HTMLText.escape($0))</li>" }.joined() + "</ul></section>")
        }
        body.append(checksTable())
        body.append(plots())
        body.append(runsTable())
        body.append(findingsList(folder: folder))
        body.append(evidenceList())
        body.append("<section><h2>Reproduce this audit</h2><pre>swift build -c release\n.build/release/"
            + HTMLText.escape(reproduceCommand(format: "html")) + " --output audit.html</pre>"
            + "<p>pgverify never runs the submission's code.</p></section>")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>pgverify audit: \(outcome.rawValue) \(HTMLText.escape(subject))</title>
            <style>\(AuditHTMLStyle.css)</style>
            </head>
            <body>
            <main>
            \(body.joined(separator: "\n"))
            </main>
            </body>
            </html>

            """
    }

    private func checksTable() -> String {
        var rows = ""
        for check in checks {
            rows += "<tr class=\"\(check.status.rawValue)\"><td><span class=\"status \(check.status.rawValue)\">\(check.status.rawValue)</span></td>"
                + "<td><code>\(HTMLText.escape(check.id))</code><br>\(HTMLText.escape(check.title))</td>"
                + "<td>\(HTMLText.escape(check.summary))</td></tr>\n"
        }
        return "<section><h2>Checks</h2><table><thead><tr><th>Status</th><th>Check</th><th>Summary</th></tr></thead><tbody>\n"
            + rows + "</tbody></table></section>"
    }

    private func plots() -> String {
        var out = "<section><h2>Plots</h2>"
        out += "<figure>\(sizePlot())<figcaption>Size: code + model bytes against the 16,000,000-byte cap. "
            + "Measured bars come from files on disk; claimed bars from the submission's own figures.</figcaption></figure>"
        let scored = runs.compactMap { run in run.valBPB?.value.double.map { (run.seed.map { "seed \($0)" } ?? run.log, $0) } }
        if !scored.isEmpty {
            let mean = scored.map(\.1).reduce(0, +) / Double(scored.count)
            let svg = SVGPlots.dots(scored.map { ($0.0, $0.1, "#2c6fbb") }, references: [("mean", mean, "#2c6fbb")],
                                    unit: "val_bpb", title: "val_bpb per run")
            out += "<figure>\(svg)<figcaption>val_bpb per run as the logs print it (headline evaluation).</figcaption></figure>"
        }
        let losses = runs.compactMap { run in run.valLoss?.value.double.map { (run.seed.map { "seed \($0)" } ?? run.log, $0) } }
        if let previousRecord, !losses.isEmpty {
            let previous = previousRecord.valLosses.enumerated().map { ("prev \($0.offset + 1)", $0.element, "#999999") }
            let previousMean = previousRecord.valLosses.reduce(0, +) / Double(previousRecord.valLosses.count)
            let svg = SVGPlots.dots(losses.map { ($0.0, $0.1, "#2c6fbb") } + previous,
                                    references: [("previous mean", previousMean, "#777777"),
                                                 ("required", previousMean - SignificanceCheckProvider.margin, "#c0392b")],
                                    unit: "val_loss (nats)", title: "val_loss per run against the previous record")
            out += "<figure>\(svg)<figcaption>val_loss per run (blue) and the previous record's runs (grey); a new record "
                + "must be below the red line (previous mean − 0.005 nats) at p &lt; 0.01.</figcaption></figure>"
        }
        if let stream = checks.first(where: { $0.id == Audit.reproducedScoreID })?.series.first, !stream.points.isEmpty {
            out += "<figure>\(SVGPlots.line(stream.points, xLabel: "validation tokens", yLabel: "bpb", title: stream.name))"
                + "<figcaption>\(HTMLText.escape(stream.name)) along the validation stream (reproduced).</figcaption></figure>"
        } else {
            out += "<p class=\"note\">bpb along the validation stream: no evaluation ran (reproduced val_bpb is not available).</p>"
        }
        return out + "</section>"
    }

    private func sizePlot() -> String {
        var bars: [(label: String, segments: [(String, Double, String)])] = []
        let code = Double(size.codeBytes ?? 0)
        if let model = size.modelBytes {
            bars.append(("measured", [("code", code, "#e67e22"), ("model", Double(model), "#2c6fbb")]))
        } else {
            bars.append(("measured (code only)", [("code", code, "#e67e22")]))
        }
        let claimedTotals = size.claims.filter { $0.kind == .totalBytes && $0.aggregate != .mean }
        if let largest = claimedTotals.compactMap({ $0.value.double }).max() {
            bars.append(("largest claimed total", [("claimed total", largest, "#8e9eab")]))
        }
        let claimedModels = size.claims.filter { $0.kind == .modelBytes }
        if size.modelBytes == nil, let model = claimedModels.compactMap({ $0.value.double }).max() {
            bars.append(("code + claimed model", [("code", code, "#e67e22"), ("claimed model", model, "#7fb3e0")]))
        }
        return SVGPlots.stackedBars(bars, limit: Double(SizeReport.limit), limitLabel: "cap 16,000,000")
    }

    private func runsTable() -> String {
        guard !runs.isEmpty else { return "<section><h2>Runs</h2><p>No train log reports a run.</p></section>" }
        func cell(_ claim: Claim?, digits: Int? = nil) -> String {
            guard let claim else { return "<td>—</td>" }
            let value = digits.flatMap { d in claim.value.double.map { AuditFormat.fixed($0, digits: d) } } ?? claim.value.description
            return "<td title=\"\(HTMLText.escape(claim.source.description))\">\(HTMLText.escape(value))</td>"
        }
        let reproduced = Dictionary(
            (checks.first { $0.id == Audit.reproducedScoreID }?.measurements ?? []).filter { $0.name == "reproduced_val_bpb" }
                .map { ($0.seed ?? -1, $0.value) }, uniquingKeysWith: { first, _ in first })
        var rows = ""
        for run in runs {
            let again = reproduced[run.seed ?? -1].map { AuditFormat.fixed($0, digits: 8) } ?? "—"
            rows += "<tr><td><code>\(HTMLText.escape(run.log))</code></td><td>\(run.seed.map(String.init) ?? "—")</td>"
                + cell(run.valBPB) + cell(run.valLoss) + cell(run.trainSeconds, digits: 1) + cell(run.evalSeconds, digits: 1)
                + "<td>\(again)</td></tr>\n"
        }
        return "<section><h2>Runs: claimed and reproduced</h2><table><thead><tr><th>Log</th><th>Seed</th><th>val_bpb (claimed)</th>"
            + "<th>val_loss (nats)</th><th>Train (s)</th><th>Eval (s)</th><th>val_bpb (reproduced)</th></tr></thead><tbody>\n"
            + rows + "</tbody></table></section>"
    }

    private func findingsList(folder: URL?) -> String {
        let all = findings.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
        guard !all.isEmpty else { return "<section><h2>Findings</h2><p>No findings.</p></section>" }
        var out = "<section><h2>Findings</h2>"
        for finding in all {
            out += "<div class=\"finding \(finding.severity.rawValue)\"><p><span class=\"severity\">\(finding.severity.rawValue)</span> "
                + "<code>\(HTMLText.escape(finding.rule))</code>"
                + (finding.locationText.map { " <code class=\"loc\">\(HTMLText.escape($0))</code>" } ?? "")
                + "</p><p>\(HTMLText.escape(finding.message))</p>"
            if let folder, let file = finding.file, let line = finding.line, let excerpt = CodeExcerpt.lines(in: folder, file: file, around: line) {
                out += "<pre class=\"excerpt\">" + excerpt.map { number, text in
                    let row = "\(String(repeating: " ", count: max(0, 5 - String(number).count)))\(number)  \(HTMLText.escape(text))"
                    return number == line ? "<mark>\(row)</mark>" : row
                }.joined(separator: "\n") + "</pre>"
            }
            out += "</div>\n"
        }
        return out + "</section>"
    }

    private func evidenceList() -> String {
        var out = "<section><h2>Evidence</h2>"
        for check in checks where !check.evidence.isEmpty {
            out += "<details><summary><code>\(HTMLText.escape(check.id))</code> (\(check.evidence.count))</summary><ul>"
            for item in check.evidence {
                out += "<li>" + (item.location.map { "<code>\(HTMLText.escape($0.description))</code>: " } ?? "")
                    + HTMLText.escape(item.text) + "</li>"
            }
            out += "</ul></details>\n"
        }
        return out + "</section>"
    }
}

/// Lines around a cited line, read from the submission folder (text only, bounded).
enum CodeExcerpt {
    static func lines(in folder: URL, file: String, around line: Int, context: Int = 2) -> [(Int, String)]? {
        guard !file.contains(".."), !file.hasPrefix("/") else { return nil }
        let url = folder.appendingPathComponent(file)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              let size = attributes[.size] as? Int, size <= SubmissionLimits.maxTextBytes,
              let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return nil }
        let range = max(1, line - context)...min(lines.count, line + context)
        return range.map { ($0, String(lines[$0 - 1].prefix(200))) }
    }
}

enum AuditHTMLStyle {
    static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;background:#f6f7f9;margin:0}
        main{max-width:1000px;margin:0 auto;padding:16px 24px 48px;background:#fff}
        h1{margin:0;font-size:28px}h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
        .verdict{padding:14px 18px;border-radius:6px;color:#fff}.verdict p{margin:4px 0 0}
        .verdict.pass{background:#1e8449}.verdict.fail{background:#b03a2e}.verdict.incomplete{background:#b9770e}
        table{border-collapse:collapse;width:100%;font-size:14px}th,td{border:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
        th{background:#f0f2f5}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
        .status{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
        .status.pass{background:#1e8449}.status.fail{background:#b03a2e}.status.warn{background:#ca6f1e}
        .status.incomplete{background:#7f8c8d}.status.skipped{background:#aab7b8}
        .finding{border-left:4px solid #aaa;padding:2px 12px;margin:10px 0;background:#fafafa}
        .finding.error{border-color:#b03a2e}.finding.warning{border-color:#ca6f1e}.finding.note{border-color:#7f8c8d}
        .finding p{margin:6px 0;font-size:14px}.severity{font-weight:700;text-transform:uppercase;font-size:12px}
        pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:12px;white-space:pre-wrap}mark{background:#fde68a;display:inline-block;width:100%}
        figure{margin:12px 0}figcaption{font-size:13px;color:#555}svg{max-width:100%;height:auto}.note{color:#666;font-size:14px}
        details{margin:6px 0}li{margin:2px 0;font-size:14px}
        """
}
