import Massif
import RunRecord
import TextFormat

extension HTMLPage {
    /// The server's own counters at each snapshot (plan key `observe:`) beside Massif's total, and the
    /// `SHOW GLOBAL STATUS` values that changed during the run.
    mutating func counters() {
        out += "<section id=\"counters\"><h2>Server counters</h2>\n"
        let observed = manifest.snapshots.sorted { $0.id < $1.id }.filter { $0.counters != nil }
        guard !observed.isEmpty else {
            out += "<p class=\"muted\">No counters were read. Add <code>observe: [memory_used, processlist]</code> to "
            out += "the plan to see the server's own accounting beside Massif's.</p></section>\n"
            return
        }
        let hasMemoryUsed = observed.contains { $0.counters?.memoryUsed != nil }
        let hasProcesslist = observed.contains { $0.counters?.processlist != nil }
        let hasSchema = observed.contains { $0.counters?.performanceSchemaBytes != nil }
        out += "<p class=\"muted\">Read through a separate connection just after each snapshot (not at light "
        out += "snapshots, which would compete with the step). Memory_used is what the server accounts for itself; "
        out += "Massif sees every heap allocation, the server's accounting only its own.</p>\n"
        out += "<table class=\"sortable\"><thead><tr><th class=\"num\" data-type=\"num\">#</th>"
        out += "<th data-type=\"text\">snapshot</th><th class=\"num\" data-type=\"num\">time</th>"
        out += "<th class=\"num\" data-type=\"num\">Massif total</th>"
        if hasMemoryUsed {
            out += "<th class=\"num\" data-type=\"num\">Memory_used</th><th class=\"num\" data-type=\"num\">change</th>"
        }
        if hasProcesslist {
            out += "<th class=\"num\" data-type=\"num\">PROCESSLIST.MEMORY_USED</th>"
            out += "<th class=\"num\" data-type=\"num\">connections</th>"
        }
        if hasSchema { out += "<th class=\"num\" data-type=\"num\">performance_schema</th>" }
        out += "<th>note</th></tr></thead>\n<tbody>\n"
        var previousMemoryUsed: UInt64?
        for record in observed {
            let counters = record.counters
            out += "<tr><td class=\"num\" data-value=\"\(record.id)\">\(record.id)</td>"
            out += "<td>\(HTML.escape(record.label))</td>"
            out += numberCell((record.time, Format.seconds(record.time)))
            out += numberCell((Double(record.totalBytes), Format.bytes(record.totalBytes)))
            if hasMemoryUsed {
                let value = counters?.memoryUsed
                out += numberCell(value.map { (Double($0), Format.bytes(Int(clamping: $0))) })
                if let value, let previous = previousMemoryUsed {
                    let delta = Int(clamping: value) - Int(clamping: previous)
                    out += "<td class=\"num \(HTMLPage.tone(delta))\" data-value=\"\(delta)\">"
                    out += "\(HTML.escape(Format.signedBytes(delta)))</td>"
                } else {
                    out += "<td class=\"num muted\">–</td>"
                }
                if let value { previousMemoryUsed = value }
            }
            if hasProcesslist {
                let total = counters?.processlistTotal
                out += numberCell(total.map { (Double($0), Format.bytes(Int(clamping: $0))) })
                out += numberCell(counters?.processlist.map { (Double($0.count), String($0.count)) })
            }
            if hasSchema {
                let value = counters?.performanceSchemaBytes
                out += numberCell(value.map { (Double($0), Format.bytes(Int(clamping: $0))) })
            }
            out += "<td class=\"muted\">\(HTML.escape(counters?.error ?? ""))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        globalStatus(observed)
        out += "</section>\n"
    }

    /// `SHOW GLOBAL STATUS` values that changed between the first and the last snapshot that read them.
    mutating func globalStatus(_ observed: [SnapshotRecord]) {
        let readings = observed.compactMap { record in record.counters?.globalStatus.map { (record, $0) } }
        guard let first = readings.first, let last = readings.last, readings.count >= 2 else { return }
        var changed: [(String, Int64, Int64, Int64)] = []
        for (name, end) in last.1 {
            let start = first.1[name] ?? 0
            guard start != end else { continue }
            let peak = readings.compactMap { $0.1[name] }.max() ?? end
            changed.append((name, start, end, peak))
        }
        guard !changed.isEmpty else { return }
        changed.sort { $0.0 < $1.0 }
        out +=
            "<h4>Global status values that changed (\(HTML.escape(first.0.label)) to \(HTML.escape(last.0.label)))</h4>\n"
        out += "<table class=\"sortable\"><thead><tr><th data-type=\"text\">variable</th>"
        out += "<th class=\"num\" data-type=\"num\">first</th><th class=\"num\" data-type=\"num\">last</th>"
        out += "<th class=\"num\" data-type=\"num\">change</th><th class=\"num\" data-type=\"num\">largest</th>"
        out += "</tr></thead>\n<tbody>\n"
        for (name, start, end, peak) in changed {
            let (delta, overflow) = end.subtractingReportingOverflow(start)
            out += "<tr><td class=\"mono\">\(HTML.escape(name))</td>"
            out += numberCell((Double(start), String(start))) + numberCell((Double(end), String(end)))
            out +=
                overflow
                ? "<td class=\"num\">–</td>" : numberCell((Double(delta), (delta > 0 ? "+" : "") + String(delta)))
            out += numberCell((Double(peak), String(peak))) + "</tr>\n"
        }
        out += "</tbody></table>\n"
    }

    /// The configured envelope (global buffers plus max_connections times the per-session buffers) as a
    /// bar, with the measured peak and the server's largest Memory_used on the same scale.
    mutating func envelope() {
        out += "<section id=\"envelope\"><h2>Memory envelope and measured peak</h2>\n"
        let largestMemoryUsed = manifest.snapshots.compactMap { $0.counters?.memoryUsed }.max()
        guard let envelope = report.envelope, envelope.total > 0 else {
            out += "<p>"
            if let peak = report.measuredPeak {
                out += "Measured peak: <b>\(HTML.escape(Format.bytes(peak)))</b>"
                if let source = report.measuredPeakSource { out += " (\(HTML.escape(source)))" }
                out += ". "
            }
            out += "<span class=\"muted\">The server's memory variables were not read, so there is no envelope "
            out += "to compare with.</span></p></section>\n"
            return
        }
        let scale = max(
            Double(envelope.total),
            Double(report.measuredPeak ?? 0),
            Double(largestMemoryUsed ?? 0)
        )
        let sessions = envelope.total &- envelope.globalBuffers
        out += "<p class=\"muted\">The envelope is the classic worst case: every global buffer, plus every one of "
        out += "max_connections sessions filling every per-session buffer at once. Bars share one scale.</p>\n"
        out += "<div class=\"meters\">\n"
        out += "<div>configured envelope</div><div class=\"track\" title=\"global buffers + sessions\">"
        out += "<div class=\"seg global\" style=\"width:\(HTML.percent(Double(envelope.globalBuffers), of: scale))\" "
        out +=
            "title=\"global buffers \(HTML.escape(Format.bytes(RunReport.clamped(envelope.globalBuffers))))\"></div>"
        out += "<div class=\"seg session\" style=\"width:\(HTML.percent(Double(sessions), of: scale))\" "
        out +=
            "title=\"\(envelope.maxConnections) × \(HTML.escape(Format.bytes(RunReport.clamped(envelope.perSession))))\"></div>"
        out +=
            "</div><div class=\"num\"><b>\(HTML.escape(Format.bytes(RunReport.clamped(envelope.total))))</b></div>\n"
        if let peak = report.measuredPeak {
            let over = UInt64(max(peak, 0)) > envelope.total
            out += "<div>measured peak (Massif)</div><div class=\"track\"><div class=\"seg \(over ? "over" : "peak")\" "
            out += "style=\"width:\(HTML.percent(Double(peak), of: scale))\"></div></div>"
            out += "<div class=\"num\"><b>\(HTML.escape(Format.bytes(peak)))</b></div>\n"
        }
        if let largestMemoryUsed {
            out += "<div>largest server Memory_used</div><div class=\"track\"><div class=\"seg server\" "
            out += "style=\"width:\(HTML.percent(Double(largestMemoryUsed), of: scale))\"></div></div>"
            out +=
                "<div class=\"num\">\(HTML.escape(Format.bytes(Int(clamping: largestMemoryUsed))))</div>\n"
        }
        out +=
            "</div>\n<div class=\"legend\"><span><i style=\"background:var(--stacks);opacity:.7\"></i>global buffers "
        out += "\(HTML.escape(Format.bytes(RunReport.clamped(envelope.globalBuffers))))</span>"
        out += "<span><i style=\"background:var(--extra);opacity:.7\"></i>\(envelope.maxConnections) connections × "
        out +=
            "\(HTML.escape(Format.bytes(RunReport.clamped(envelope.perSession)))) per session</span></div>\n"
        out += "<p>"
        if let peak = report.measuredPeak {
            let percent = Double(peak) / Double(envelope.total) * 100
            out += "The measured peak, \(HTML.escape(Format.bytes(peak)))"
            if let source = report.measuredPeakSource { out += " at \(HTML.escape(source))" }
            out += ", is <b>\(Format.decimal(percent))%</b> of the envelope"
            let oneSession = envelope.globalBuffers &+ envelope.perSession
            if oneSession > 0 {
                let share = Double(peak) / Double(oneSession) * 100
                out += " and \(Format.decimal(share))% of the global buffers plus one session "
                out += "(\(HTML.escape(Format.bytes(RunReport.clamped(oneSession)))))"
            }
            out += ".</p>\n"
        } else {
            out += "No peak was measured.</p>\n"
        }
        if let variables = manifest.server?.memoryVariables, !variables.isEmpty {
            out += "<details><summary>The server's memory variables (\(variables.count))</summary>"
            out += "<table class=\"sortable\"><thead><tr><th data-type=\"text\">variable</th>"
            out +=
                "<th class=\"num\" data-type=\"num\">value</th><th class=\"num\" data-type=\"num\">bytes</th></tr></thead><tbody>\n"
            for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
                let text = name == "max_connections" ? String(value) : Format.bytes(Int(clamping: value))
                out += "<tr><td class=\"mono\">\(HTML.escape(name))</td>"
                out += numberCell((Double(value), text)) + numberCell((Double(value), String(value))) + "</tr>\n"
            }
            out += "</tbody></table></details>\n"
        }
        out += "</section>\n"
    }

    /// Every budget and leak check with its verdict.
    mutating func verdicts() {
        out += "<section id=\"verdicts\"><h2>Verdicts</h2>\n<ul class=\"verdicts\">\n"
        if report.budgets.isEmpty && report.leaks.isEmpty {
            out += "<li class=\"muted\">no budgets or leak checks in this plan</li>\n"
        }
        for verdict in report.budgets {
            let name = verdict.step.map { "max_growth of \($0)" } ?? "max_heap"
            out += "<li>\(HTMLPage.badge(verdict.passed ? "ok" : "FAIL", good: verdict.passed)) "
            if let step = verdict.step, let index = report.steps.first(where: { $0.label == step })?.index {
                out += "<a href=\"#step-\(index)\">\(HTML.escape(name))</a>: "
            } else {
                out += "\(HTML.escape(name)): "
            }
            if let measured = verdict.measured {
                out += HTML.escape(
                    verdict.step == nil ? Format.bytes(measured) : Format.signedBytes(measured)
                )
            } else {
                out += "not measured"
            }
            out += " (limit \(HTML.escape(Format.bytes(Int(clamping: verdict.limit)))))"
            if let note = verdict.note { out += "; <span class=\"muted\">\(HTML.escape(note))</span>" }
            out += "</li>\n"
        }
        for leak in report.leaks {
            out += "<li>\(HTMLPage.badge(leak.flagged ? "LEAK" : "ok", good: !leak.flagged)) leak check of "
            if let index = report.steps.first(where: { $0.label == leak.step })?.index {
                out += "<a href=\"#step-\(index)\">\(HTML.escape(leak.step))</a>"
            } else {
                out += HTML.escape(leak.step)
            }
            out += ": \(HTML.escape(Format.signedBytes(leak.growth))) over \(leak.rounds) rounds, growing in "
            out += "\(leak.growingRounds) of \(leak.rounds - 1)"
            if leak.flagged, let site = leak.sites.first {
                out += "; grew most in <b>\(HTML.escape(RunReport.shortName(site.function)))</b> "
                out += HTML.escape(Format.signedBytes(site.delta))
            }
            out += "</li>\n"
        }
        out += "</ul>\n</section>\n"
    }

    /// How the run was made: tool, plan, valgrind command line, server shutdown, Massif's own file.
    mutating func runDetails() {
        out += "<footer id=\"run\"><details><summary>How this run was made</summary>\n<div class=\"facts\">"
        var items: [(String, String)] = [
            ("snapctl", manifest.tool.version),
            ("plan", manifest.plan.source),
            ("started", manifest.startedAt),
        ]
        if let finished = manifest.finishedAt { items.append(("finished", finished)) }
        if let server = manifest.server {
            items.append(("server", "\(server.flavor) \(server.version), \(server.mode)"))
            if let valgrind = server.valgrindVersion { items.append(("valgrind", valgrind)) }
            if let startup = server.startupSeconds { items.append(("server start", Format.seconds(startup))) }
        }
        if let final = manifest.massifFinal {
            items.append(("Massif's own file", "\(final.file), \(final.snapshots) snapshots"))
            if let peak = final.peakTotal { items.append(("its peak", Format.bytes(peak))) }
        }
        for (key, value) in items {
            out +=
                "<div><span class=\"k\">\(HTML.escape(key))</span><span class=\"v\">\(HTML.escape(value))</span></div>"
        }
        out += "</div>\n"
        if let server = manifest.server {
            if !server.valgrindCommand.isEmpty {
                out +=
                    "<p>Valgrind command line:</p><pre>\(HTML.escape(server.valgrindCommand.joined(separator: " ")))</pre>\n"
            }
            if let shutdown = server.shutdown { out += "<p>Shutdown: \(HTML.escape(shutdown))</p>\n" }
        }
        if !manifest.tool.arguments.isEmpty {
            out +=
                "<p>snapctl command line:</p><pre>\(HTML.escape(manifest.tool.arguments.joined(separator: " ")))</pre>\n"
        }
        out += "</details>\n<p>Written by snapctl \(HTML.escape(manifest.tool.version)) from manifest.json and the "
        out +=
            "snapshot files; <code>snapctl report RUN --html</code> writes it again. One file, nothing fetched.</p>\n"
        out += "</footer>\n"
    }
}
