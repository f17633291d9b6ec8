import Massif
import RunRecord

extension RunReport {
    /// `report.html`: one self-contained page (no scripts, no external files) with the heap timeline as
    /// inline SVG, each step drawn as a band under it, then the step table, the growing sites with their
    /// call paths, the memory envelope and the verdicts.
    ///
    /// - Parameter manifest: the run's manifest, for the snapshot times and totals the chart plots.
    public func html(manifest: RunManifest) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>snapctl report: \(escape(plan))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
            table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
            td.n{text-align:right;font-variant-numeric:tabular-nums}.grew{color:#b00}.shrank{color:#070}
            .fail{color:#b00;font-weight:bold}.ok{color:#070}code{font-size:12px}details{margin:.4em 0}
            </style></head><body>
            <h1>snapctl report: \(escape(plan))</h1>

            """
        out += "<p>Outcome: <b>\(escape(status.rawValue))</b>"
        if let exitCode { out += " (exit \(exitCode))" }
        if let message { out += ": \(escape(message))" }
        out += "<br>Server: \(escape(server ?? "unknown"))</p>\n"
        out += chart(manifest)

        out += "<h2>Steps</h2>\n<table><tr><th>#</th><th>step</th><th>outcome</th><th>time</th>"
        out += "<th>before</th><th>after</th><th>delta</th><th>peak while running</th><th>top growing site</th></tr>\n"
        for step in steps {
            out += "<tr><td>\(step.index)</td><td>\(escape(step.label))</td><td>\(escape(step.outcome.rawValue))</td>"
            out += "<td class=n>\(step.duration.map { Self.seconds($0) } ?? "")</td>"
            out += "<td class=n>\(step.before.map(MassifRenderer.formatBytes) ?? "")</td>"
            out += "<td class=n>\(step.after.map(MassifRenderer.formatBytes) ?? "")</td>"
            let deltaClass = (step.delta ?? 0) > 0 ? "grew" : "shrank"
            out += "<td class=\"n \(deltaClass)\">\(step.delta.map(Self.signedBytes) ?? "")</td>"
            out += "<td class=n>\(step.duringPeak.map(MassifRenderer.formatBytes) ?? "")</td>"
            out +=
                "<td>\(step.sites.first.map { escape($0.function) + " " + Self.signedBytes($0.delta) } ?? "")</td></tr>\n"
        }
        out += "</table>\n"

        for step in steps where !step.sites.isEmpty || !step.shrunk.isEmpty || step.error != nil {
            out += "<h3>[\(step.index)] \(escape(step.label))</h3>\n"
            if let error = step.error { out += "<p>Error: \(escape(error))</p>\n" }
            if let before = step.memoryUsedBefore, let after = step.memoryUsedAfter {
                out += "<p>Server Memory_used: \(MassifRenderer.formatBytes(Int(before))) → "
                out += "\(MassifRenderer.formatBytes(Int(after)))</p>\n"
            }
            for (title, sites) in [("grew", step.sites), ("shrank", step.shrunk)] where !sites.isEmpty {
                out += "<p>\(title):</p>\n"
                for site in sites { out += siteHTML(site) }
            }
        }

        out += "<h2>Memory</h2>\n<p>"
        if let measuredPeak {
            out += "Measured peak: <b>\(MassifRenderer.formatBytes(measuredPeak))</b>"
            if let measuredPeakSource { out += " (\(escape(measuredPeakSource)))" }
            out += "<br>"
        }
        if let envelope {
            out +=
                "Configured envelope: <b>\(MassifRenderer.formatBytes(Self.clamped(envelope.total)))</b> = global buffers "
            out +=
                "\(MassifRenderer.formatBytes(Self.clamped(envelope.globalBuffers))) + \(envelope.maxConnections) connections × "
            out += "\(MassifRenderer.formatBytes(Self.clamped(envelope.perSession)))"
        }
        out += "</p>\n<h2>Verdicts</h2>\n<ul>\n"
        if budgets.isEmpty && leaks.isEmpty { out += "<li>no budgets or leak checks in this plan</li>\n" }
        for verdict in budgets {
            let name = verdict.step.map { "max_growth of \($0)" } ?? "max_heap"
            out += "<li class=\(verdict.passed ? "ok" : "fail")>\(verdict.passed ? "ok" : "FAIL") \(escape(name)): "
            out += verdict.measured.map { MassifRenderer.formatBytes($0) } ?? "not measured"
            out += " (limit \(MassifRenderer.formatBytes(Int(clamping: verdict.limit))))</li>\n"
        }
        for leak in leaks {
            out += "<li class=\(leak.flagged ? "fail" : "ok")>\(leak.flagged ? "LEAK" : "ok") leak check of "
            out += "\(escape(leak.step)): \(Self.signedBytes(leak.growth)) over \(leak.rounds) rounds, growing in "
            out += "\(leak.growingRounds) of \(leak.rounds - 1)"
            if leak.flagged { out += leak.sites.map(siteHTML).joined() }
            out += "</li>\n"
        }
        out += "</ul>\n</body></html>\n"
        return out
    }

    private func siteHTML(_ site: Site) -> String {
        var out = "<details><summary><code>\(Self.signedBytes(site.delta))</code> \(escape(site.function))</summary>"
        out += "<code>" + site.path.map(escape).joined(separator: "<br>← ") + "</code></details>\n"
        return out
    }

    /// The heap total of every snapshot against run time, with a band per step.
    private func chart(_ manifest: RunManifest) -> String {
        let points = manifest.snapshots.sorted { $0.time < $1.time }
        guard let first = points.first, let last = points.last else { return "" }
        let (width, height, left, bottom) = (1000.0, 260.0, 70.0, 40.0)
        let plotWidth = width - left - 10
        let plotHeight = height - bottom - 10
        let minTime = first.time
        let span = max(last.time - minTime, 1e-6)
        let maxBytes = Double(max(points.map(\.totalBytes).max() ?? 1, 1))
        func x(_ time: Double) -> Double { left + (time - minTime) / span * plotWidth }
        func y(_ bytes: Int) -> Double { 10 + plotHeight - Double(bytes) / maxBytes * plotHeight }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\">\n"
        var shade = false
        for step in manifest.steps {
            let own = points.filter { $0.step == step.label }
            guard let start = own.first?.time, let end = own.last?.time else { continue }
            shade.toggle()
            let x0 = x(start)
            let x1 = max(x(end), x0 + 2)
            svg += "<rect x=\"\(fmt(x0))\" y=\"10\" width=\"\(fmt(x1 - x0))\" height=\"\(fmt(plotHeight))\" "
            svg += "fill=\"\(shade ? "#e8eef8" : "#f4f4f4")\"><title>\(escape(step.label))</title></rect>\n"
            svg +=
                "<text x=\"\(fmt(x0 + 2))\" y=\"\(fmt(height - 22))\" font-size=\"10\">\(escape(step.label))</text>\n"
        }
        let line = points.map { "\(fmt(x($0.time))),\(fmt(y($0.totalBytes)))" }.joined(separator: " ")
        svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"#2a5caa\" stroke-width=\"1.5\"/>\n"
        for point in points {
            svg += "<circle cx=\"\(fmt(x(point.time)))\" cy=\"\(fmt(y(point.totalBytes)))\" r=\"2.5\" "
            svg +=
                "fill=\"\(point.phase == .during ? "#999" : "#2a5caa")\"><title>#\(point.id) \(point.phase.rawValue) "
            svg += "\(escape(point.step)): \(MassifRenderer.formatBytes(point.totalBytes))</title></circle>\n"
        }
        svg += "<text x=\"2\" y=\"16\" font-size=\"11\">\(MassifRenderer.formatBytes(Int(maxBytes)))</text>\n"
        svg += "<text x=\"2\" y=\"\(fmt(10 + plotHeight))\" font-size=\"11\">0</text>\n"
        svg += "<text x=\"\(fmt(left))\" y=\"\(fmt(height - 4))\" font-size=\"11\">\(Self.seconds(minTime))</text>\n"
        svg +=
            "<text x=\"\(fmt(width - 60))\" y=\"\(fmt(height - 4))\" font-size=\"11\">\(Self.seconds(last.time))</text>\n"
        svg += "</svg>\n"
        return svg
    }

    private func fmt(_ value: Double) -> String { Self.oneDecimal(value) }
}

/// Text made safe for HTML element content and attribute values.
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
