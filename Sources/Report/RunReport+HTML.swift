import Massif
import RunRecord
import TextFormat

/// How much `report.html` shows of each allocation tree and of each step's SQL.
public struct HTMLOptions: Sendable, Hashable {
    /// Rows per allocation tree (a chain of single callers is one row).
    public var treeRows: Int
    /// Tree depth in rows.
    public var treeDepth: Int
    /// Rows below this share of the snapshot's total are summed up unless they changed a lot.
    public var treeMinimumSharePercent: Double
    /// Characters of SQL (or shell command) shown per step.
    public var sqlCharacters: Int
    /// Steps that get an allocation tree: in a run with more, the steps that failed a check and then
    /// those that changed most keep theirs, so that a long run's page stays a sane size.
    public var treeSteps: Int

    public init(
        treeRows: Int = 120,
        treeDepth: Int = 14,
        treeMinimumSharePercent: Double = 0.5,
        sqlCharacters: Int = 4000,
        treeSteps: Int = 60
    ) {
        self.treeRows = treeRows
        self.treeDepth = treeDepth
        self.treeMinimumSharePercent = treeMinimumSharePercent
        self.sqlCharacters = sqlCharacters
        self.treeSteps = treeSteps
    }

    var treeLimits: AllocationTreeView.Limits {
        var limits = AllocationTreeView.Limits()
        limits.rows = max(1, treeRows)
        limits.depth = max(1, treeDepth)
        limits.minimumSharePercent = treeMinimumSharePercent
        return limits
    }
}

extension RunReport {
    /// `report.html`: one self-contained page for someone hunting a memory problem.
    ///
    /// Headline first (outcome, the step that grew most and where, the peak against the configured
    /// envelope), then the heap timeline as inline SVG with a band per step and the budgets as lines, the
    /// step table, a section per step (growing sites as bars, the allocation tree as rows to expand), the
    /// server's counters, the envelope beside the measured peak and the verdicts. Style and a small script
    /// are inline, nothing is fetched (a Content-Security-Policy forbids it), and everything is readable
    /// with JavaScript off. docs/report.md describes the page.
    ///
    /// - Parameters:
    ///   - manifest: the run's manifest: snapshot totals for the timeline, steps' SQL, counters, warnings.
    ///   - snapshots: the parsed snapshot files by snapshot id, for the allocation trees; a step whose
    ///     snapshots are missing or light gets no tree.
    ///   - folding: the allocator wrappers folded in the trees (the same as the sites).
    public func html(
        manifest: RunManifest,
        snapshots: [Int: Snapshot] = [:],
        xtrees: [String: XTreeDump] = [:],
        folding: AllocatorFolding = .mariadbDefault,
        options: HTMLOptions = HTMLOptions()
    ) -> String {
        var page = HTMLPage(report: self, manifest: manifest, snapshots: snapshots, folding: folding, options: options)
        page.xtrees = xtrees
        return page.render()
    }
}

/// The writer of one page: the report, what it was built from, and the output so far.
struct HTMLPage {
    let report: RunReport
    let manifest: RunManifest
    let snapshots: [Int: Snapshot]
    let folding: AllocatorFolding
    let options: HTMLOptions
    /// The steps whose allocation tree is drawn (all of them unless there are more than `treeSteps`).
    let treeStepIndexes: Set<Int>
    /// What the steps with the allocated lens allocated, by file (their trees are drawn).
    var xtrees: [String: XTreeDump] = [:]
    var out = ""

    init(
        report: RunReport,
        manifest: RunManifest,
        snapshots: [Int: Snapshot],
        folding: AllocatorFolding,
        options: HTMLOptions
    ) {
        self.report = report
        self.manifest = manifest
        self.snapshots = snapshots
        self.folding = folding
        self.options = options
        var ranked = report.steps
        if ranked.count > options.treeSteps {
            // Alarming steps first, then by the size of the change, then in plan order.
            func alarming(_ step: StepReport) -> Bool {
                !step.outcome.isSuccess || report.budgets.contains { $0.step == step.label && !$0.passed }
                    || report.leaks.contains { $0.step == step.label && $0.flagged }
            }
            ranked.sort {
                if alarming($0) != alarming($1) { return alarming($0) }
                let (a, b) = (abs($0.delta ?? 0), abs($1.delta ?? 0))
                return a != b ? a > b : $0.index < $1.index
            }
            ranked = Array(ranked.prefix(max(0, options.treeSteps)))
        }
        treeStepIndexes = Set(ranked.map(\.index))
    }

    mutating func render() -> String {
        out.reserveCapacity(64 * 1024)
        let title = "snapctl report: " + report.plan
        out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        // Nothing may be fetched: only the inline style and script run, images only from data: URLs.
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        out += "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        out += "<link rel=\"icon\" href=\"data:,\">\n"
        out += "<meta name=\"generator\" content=\"snapctl \(HTML.escape(manifest.tool.version))\">\n"
        out += "<title>\(HTML.escape(title))</title>\n<style>\n\(HTMLAssets.style)\n</style>\n</head>\n<body>\n"
        header()
        headline()
        timeline()
        stepTable()
        stepSections()
        counters()
        envelope()
        globalBuffers()
        verdicts()
        runDetails()
        out += "<script>\n\(HTMLAssets.script)\n</script>\n</body></html>\n"
        return out
    }

    // MARK: Header and headline

    mutating func header() {
        out += "<header>\n<h1>snapctl report: \(HTML.escape(report.plan))</h1>\n<p class=\"sub\">"
        var parts: [String] = []
        if let description = manifest.plan.description { parts.append(HTML.escape(description)) }
        if let server = report.server {
            parts.append((report.primary == nil ? "" : "replica ") + HTML.escape(server))
        }
        if let primary = report.primary { parts.append("primary " + HTML.escape(primary)) }
        parts.append("started \(HTML.escape(manifest.startedAt))")
        if let duration = manifest.durationSeconds { parts.append("ran \(Format.seconds(duration))") }
        out += parts.joined(separator: " · ") + "</p>\n</header>\n"
    }

    mutating func headline() {
        out += "<section class=\"cards\" aria-label=\"headline\">\n"
        let good = report.status == .completed && (report.exitCode ?? 0) == 0
        let statusText = report.status.rawValue.replacingOccurrences(of: "_", with: " ")
        out += "<div class=\"card \(good ? "good" : "bad")\" id=\"outcome\"><div class=\"k\">Outcome</div>"
        out += "<div class=\"v\">\(HTML.escape(statusText))"
        if let exitCode = report.exitCode { out += " <span class=\"muted\">exit \(exitCode)</span>" }
        out += "</div><div class=\"d clamp\"\(report.message.map { " title=\"\(HTML.escape($0))\"" } ?? "")>"
        out += report.message.map(HTML.escape) ?? (good ? "every step as expected, every budget kept" : "")
        out += "</div></div>\n"

        // The step that grew most, and the code that grew.
        if let biggest = report.steps.filter({ ($0.delta ?? 0) > 0 }).max(by: { ($0.delta ?? 0) < ($1.delta ?? 0) }),
            let delta = biggest.delta
        {
            out += "<div class=\"card warn\"><div class=\"k\">Grew most</div>"
            out += "<div class=\"v\"><a href=\"#step-\(biggest.index)\">\(HTML.escape(biggest.label))</a> "
            out += "<span class=\"grew\">\(HTML.escape(Format.signedBytes(delta)))</span></div><div class=\"d\">"
            if let site = biggest.sites.first {
                out += "top site <b title=\"\(HTML.escape(site.function))\">"
                out += "\(HTML.escape(RunReport.shortName(site.function)))</b> "
                out += "<span class=\"grew\">\(HTML.escape(Format.signedBytes(site.delta)))</span>"
            } else {
                out += "no call paths: the step's snapshots are light or missing"
            }
            out += "</div></div>\n"
        } else {
            out += "<div class=\"card good\"><div class=\"k\">Grew most</div><div class=\"v\">no step grew</div>"
            out += "<div class=\"d\">after minus before is zero or negative for every step</div></div>\n"
        }

        // Peak beside the envelope.
        out += "<div class=\"card\"><div class=\"k\">Measured peak</div><div class=\"v\">"
        out += report.measuredPeak.map { HTML.escape(Format.bytes($0)) } ?? "not measured"
        out += "</div><div class=\"d\">"
        if let peak = report.measuredPeak, let envelope = report.envelope, envelope.total > 0 {
            let percent = Double(peak) / Double(envelope.total) * 100
            out += "\(Format.decimal(percent))% of the configured envelope "
            out +=
                "<a href=\"#envelope\">\(HTML.escape(Format.bytes(RunReport.clamped(envelope.total))))</a>"
            if let source = report.measuredPeakSource {
                out += "<br><span class=\"muted\">at \(HTML.escape(source))</span>"
            }
        } else if let source = report.measuredPeakSource {
            out += "at \(HTML.escape(source))"
        }
        out += "</div></div>\n"

        // Verdicts in one line.
        let broken = report.budgets.filter { !$0.passed }.count
        let flagged = report.leaks.filter(\.flagged).count
        let checks = report.budgets.count + report.leaks.count
        out += "<div class=\"card \(checks == 0 ? "" : (broken + flagged == 0 ? "good" : "bad"))\">"
        out += "<div class=\"k\">Budgets and leak checks</div><div class=\"v\">"
        if checks == 0 {
            out += "none</div><div class=\"d\">the plan sets no budget and repeats no step"
        } else {
            out += broken + flagged == 0 ? "all kept" : "\(broken + flagged) of \(checks) failed"
            out += "</div><div class=\"d\"><a href=\"#verdicts\">"
            out += "\(report.budgets.count) budget\(report.budgets.count == 1 ? "" : "s"), "
            out += "\(report.leaks.count) leak check\(report.leaks.count == 1 ? "" : "s")</a>"
        }
        out += "</div></div>\n</section>\n"

        // Steps that went wrong, and warnings, where nobody can miss them.
        let failed = report.steps.filter { !$0.outcome.isSuccess && $0.outcome != .notRun }
        if !failed.isEmpty {
            out += "<div class=\"notice bad\" id=\"failures\"><b>Steps that failed</b><ul>\n"
            for step in failed {
                out += "<li><a href=\"#step-\(step.index)\">[\(step.index)] \(HTML.escape(step.label))</a>: "
                out += HTML.escape(step.outcome.rawValue)
                if let error = step.error { out += " — \(HTML.escape(error))" }
                out += "</li>\n"
            }
            out += "</ul></div>\n"
        }
        if !manifest.warnings.isEmpty {
            out += "<div class=\"notice warn\" id=\"warnings\"><b>Warnings</b><ul>\n"
            for warning in manifest.warnings { out += "<li>\(HTML.escape(warning))</li>\n" }
            out += "</ul></div>\n"
        }
    }

    // MARK: Timeline

    mutating func timeline() {
        out += "<section id=\"timeline\"><h2>Heap timeline</h2>\n"
        let chart = TimelineChart(manifest: manifest, report: report)
        guard let svg = chart.svg() else {
            out += "<p class=\"muted\">No snapshot was taken, so there is nothing to plot.</p></section>\n"
            return
        }
        out += "<div class=\"legend\"><span><i style=\"background:var(--heap)\"></i>heap</span>"
        out += "<span><i style=\"background:var(--extra)\"></i>extra (allocator overhead)</span>"
        out += "<span><i style=\"background:var(--stacks)\"></i>stacks</span>"
        out += "<span><i class=\"dash\"></i>budget</span>"
        out +=
            "<span>● detailed snapshot ○ light snapshot · a band per step (red: failed or over budget)</span></div>\n"
        out += svg
        for line in chart.offChart {
            out += "<p class=\"muted\">Not drawn, to keep the data readable: \(HTML.escape(line.name)) "
            out += (line.band == nil ? "" : "+") + HTML.escape(Format.bytes(line.limit))
            if line.band != nil { out += " (a line at \(HTML.escape(Format.bytes(line.bytes))))" }
            out += ", more than twice the largest total"
            out += line.passed ? "; kept.</p>\n" : "; exceeded.</p>\n"
        }
        out += "</section>\n"
    }

    // MARK: Step table

    mutating func stepTable() {
        out += "<section id=\"steps\"><h2>Steps</h2>\n"
        out += "<p class=\"muted\">Heap is heap + extra + stacks; delta is the after snapshot minus the before "
        out += "snapshot; peak during is the largest light snapshot taken while the step ran.</p>\n"
        out += "<div class=\"wide\"><table class=\"sortable\" data-filter=\"filter steps\"><thead><tr>"
        let columns: [(String, String?, Bool)] = [
            ("#", "num", true), ("step", "text", false), ("kind", "text", false), ("connection", "text", false),
            ("time", "num", true), ("before", "num", true), ("after", "num", true), ("delta", "num", true),
            ("peak during", "num", true), ("budget", "text", false), ("leak check", "text", false),
            ("outcome", "text", false),
        ]
        for (name, type, numeric) in columns {
            out += "<th\(numeric ? " class=\"num\"" : "")\(type.map { " data-type=\"\($0)\"" } ?? "")>\(name)</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        let largest = max(report.steps.compactMap { $0.delta.map(abs) }.max() ?? 1, 1)
        for step in report.steps {
            let record = manifest.steps.first { $0.index == step.index }
            let budget = report.budgets.first { $0.step == step.label }
            let leak = report.leaks.first { $0.step == step.label }
            let alarm = !step.outcome.isSuccess || budget?.passed == false || leak?.flagged == true
            out += "<tr\(alarm ? " class=\"alarm\"" : "")>"
            out += "<td class=\"num\" data-value=\"\(step.index)\">\(step.index)</td>"
            out += "<td class=\"label\"><a href=\"#step-\(step.index)\">\(HTML.escape(step.label))</a></td>"
            var kind = step.kind.rawValue
            if step.rounds > 1 || (record?.repeat ?? 1) > 1 { kind += " ×\(max(step.rounds, record?.repeat ?? 1))" }
            if let connections = record?.parallelConnections { kind += " ×\(connections) connections" }
            out += "<td class=\"nowrap\">\(HTML.escape(kind))</td>"
            out += "<td>\(HTML.escape(record?.connection ?? ""))</td>"
            out += numberCell(step.duration.map { ($0, Format.seconds($0)) })
            out += numberCell(step.before.map { (Double($0), Format.bytes($0)) })
            out += numberCell(step.after.map { (Double($0), Format.bytes($0)) })
            if let delta = step.delta {
                let tone = Self.tone(delta)
                out += "<td class=\"num \(tone)\" data-value=\"\(delta)\">\(HTML.escape(Format.signedBytes(delta)))"
                out +=
                    "<span class=\"deltabar \(tone)\" style=\"width:\(HTML.number(Double(abs(delta)) / Double(largest) * 48))px\">"
                out += "</span></td>"
            } else {
                out += "<td class=\"num muted\">–</td>"
            }
            out += numberCell(step.duringPeak.map { (Double($0), Format.bytes($0)) })
            if let budget {
                let limit = Format.bytes(Int(clamping: budget.limit))
                out += "<td class=\"nowrap\">\(Self.badge(budget.passed ? "ok" : "FAIL", good: budget.passed)) "
                out += "<span class=\"muted\">≤ \(HTML.escape(limit))</span></td>"
            } else {
                out += "<td class=\"muted\">–</td>"
            }
            if let leak {
                out += "<td class=\"nowrap\">\(Self.badge(leak.flagged ? "LEAK" : "ok", good: !leak.flagged)) "
                out += "<span class=\"muted\">\(leak.growingRounds)/\(leak.rounds - 1) grew</span></td>"
            } else {
                out += "<td class=\"muted\">–</td>"
            }
            out += "<td>\(Self.outcomeBadge(step.outcome))</td></tr>\n"
        }
        out += "</tbody></table></div>\n</section>\n"
    }

    func numberCell(_ value: (Double, String)?) -> String {
        guard let (number, text) = value else { return "<td class=\"num muted\">–</td>" }
        return "<td class=\"num\" data-value=\"\(HTML.number(number))\">\(HTML.escape(text))</td>"
    }

    static func tone(_ delta: Int) -> String { delta > 0 ? "grew" : (delta < 0 ? "shrank" : "flat") }

    static func badge(_ text: String, good: Bool?) -> String {
        let kind = good.map { $0 ? "good" : "bad" } ?? "plain"
        return "<span class=\"badge \(kind)\">\(HTML.escape(text))</span>"
    }

    static func outcomeBadge(_ outcome: StepOutcome) -> String {
        switch outcome {
        case .ok: return badge("ok", good: true)
        case .expectedError: return badge("expected error", good: true)
        case .notRun: return badge("not run", good: nil)
        default: return badge(outcome.rawValue.replacingOccurrences(of: "_", with: " "), good: false)
        }
    }
}
