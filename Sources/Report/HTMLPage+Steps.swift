import Massif
import RunRecord
import TextFormat

extension HTMLPage {
    /// A section per step: what it ran, its figures, the sites that grew and shrank as bars, the rounds of
    /// a repeated step, and the allocation tree of its last snapshot compared with its first.
    mutating func stepSections() {
        out += "<section id=\"step-details\"><h2>Step by step</h2>\n"
        if report.steps.isEmpty { out += "<p class=\"muted\">The plan has no steps.</p>\n" }
        // Each step's section depends only on the run, so the sections are drawn on every core and
        // joined in order: a run of hundreds of steps is written at its end, while the user waits.
        var blank = self
        blank.out = ""
        let template = blank
        let sections = ParallelMap.map(report.steps) { step in
            var page = template
            page.stepSection(step)
            return page.out
        }
        for section in sections { out += section }
        out += "</section>\n"
    }

    mutating func stepSection(_ step: StepReport) {
        let record = manifest.steps.first { $0.index == step.index }
        let budget = report.budgets.first { $0.step == step.label }
        let leak = report.leaks.first { $0.step == step.label }
        let alarm = !step.outcome.isSuccess || budget?.passed == false || leak?.flagged == true
        out += "<section class=\"step\(alarm ? " alarm" : "")\" id=\"step-\(step.index)\">\n<div class=\"step-head\">"
        out += "<h3>[\(step.index)] \(HTML.escape(step.label))</h3>\(HTMLPage.outcomeBadge(step.outcome))"
        var about = [step.kind.rawValue]
        if let connection = record?.connection { about.append("on \(connection)") }
        if step.on == "primary" { about.append("SQL on the primary") }
        if let connections = record?.parallelConnections { about.append("\(connections) connections at once") }
        if let record, record.repeat > 1 { about.append("\(step.rounds) of \(record.repeat) rounds") }
        out += "<span class=\"muted\">\(HTML.escape(about.joined(separator: " · ")))</span></div>\n"

        if let error = step.error {
            let expected = step.outcome == .expectedError
            out += "<div class=\"notice \(expected ? "warn" : "bad")\">\(expected ? "Expected error" : "Error"): "
            out += "\(HTML.escape(error))"
            // The statement, unless it is the step's only one (shown below anyway).
            if let statement = record?.error?.statement, record?.sql != [statement] {
                out += "<pre>\(HTML.escape(Self.clip(statement, options.sqlCharacters)))</pre>"
            }
            out += "</div>\n"
        }
        facts(step, record: record, budget: budget)
        source(record)
        sites(step)
        lenses(step)
        if let leak { rounds(step, leak: leak) }
        flame(step)
        tree(step)
        out += "</section>\n"
    }

    mutating func facts(_ step: StepReport, record: StepRecord?, budget: BudgetVerdict?) {
        var items: [(String, String, String)] = []
        func bytes(_ value: Int?) -> String { value.map(Format.bytes) ?? "–" }
        items.append(("before", HTML.escape(bytes(step.before)), ""))
        items.append(("after", HTML.escape(bytes(step.after)), ""))
        if let delta = step.delta {
            items.append(("delta", HTML.escape(Format.signedBytes(delta)), HTMLPage.tone(delta)))
        } else {
            items.append(("delta", "–", "muted"))
        }
        if let peak = step.duringPeak {
            var text = Format.bytes(peak)
            // What the step held at its height, over where it started: memory freed before the end shows here.
            if let before = step.before { text += " (\(Format.signedBytes(peak - before)))" }
            items.append(("peak while running", HTML.escape(text), ""))
        }
        if let duration = step.duration { items.append(("time", Format.seconds(duration), "")) }
        if let rows = record?.rows { items.append(("rows", String(rows), "")) }
        if let warnings = record?.warnings, warnings > 0 { items.append(("warnings", String(warnings), "")) }
        if let budget {
            let limit = Format.bytes(Int(clamping: budget.limit))
            items.append(
                (
                    "max_growth", (budget.passed ? "ok, ≤ " : "FAIL, > ") + HTML.escape(limit),
                    budget.passed ? "" : "grew"
                )
            )
        }
        if let before = step.memoryUsedBefore, let after = step.memoryUsedAfter {
            let delta = Int(clamping: after) - Int(clamping: before)
            items.append(
                (
                    "server Memory_used",
                    HTML.escape(
                        "\(Format.bytes(Int(clamping: after))) (\(Format.signedBytes(delta)))"
                    ), ""
                )
            )
        }
        if let before = step.processlistBefore, let after = step.processlistAfter {
            let delta = Int(clamping: after) - Int(clamping: before)
            items.append(
                (
                    "PROCESSLIST.MEMORY_USED",
                    HTML.escape(
                        "\(Format.bytes(Int(clamping: after))) (\(Format.signedBytes(delta)))"
                    ), ""
                )
            )
        }
        if let status = record?.exitStatus { items.append(("exit", HTML.escape(status), "")) }
        if let replica = step.replica {
            let healthy = replica.isReplicating && replica.caughtUp != false
            items.append(("replica", HTML.escape(RunReport.replicaSummary(replica)), healthy ? "" : "grew"))
        }
        if let growth = step.replicationGrowth {
            var text = Format.signedBytes(growth.bytes)
            if let first = growth.functions.first { text += " through " + RunReport.shortName(first) }
            items.append(("replication code", HTML.escape(text), HTMLPage.tone(growth.bytes)))
        }
        out += "<div class=\"facts\">"
        for (key, value, tone) in items {
            out += "<div><span class=\"k\">\(key)</span><span class=\"v \(tone)\">\(value)</span></div>"
        }
        out += "</div>\n"
    }

    /// The SQL or command the step ran, open when it is short.
    mutating func source(_ record: StepRecord?) {
        guard let record else { return }
        var text: String?
        var what = ""
        if let sql = record.sql, !sql.isEmpty {
            text = sql.map { $0.hasSuffix(";") ? $0 : $0 + ";" }.joined(separator: "\n")
            what = sql.count == 1 ? "SQL" : "SQL, \(sql.count) statements"
            if let file = record.file { what += " from \(file)" }
        } else if let command = record.command {
            text = command
            what = "shell command"
        } else if let file = record.file {
            text = nil
            what = "SQL from \(file)"
        }
        guard let text else {
            if !what.isEmpty { out += "<p class=\"muted\">\(HTML.escape(what))</p>\n" }
            return
        }
        let short = text.count <= 400 && text.split(separator: "\n").count <= 6
        out += "<details\(short ? " open" : "")><summary>\(HTML.escape(what))</summary>"
        out += "<pre class=\"sql\">\(HTML.escape(Self.clip(text, options.sqlCharacters)))</pre></details>\n"
    }

    /// The sites that grew and shrank as horizontal bars on one scale, callers under each name.
    mutating func sites(_ step: StepReport) {
        guard !step.sites.isEmpty || !step.shrunk.isEmpty else {
            if step.before != nil && step.after != nil && step.kind != .snap {
                out += "<p class=\"muted\">No call paths: a light or missing snapshot at either end of the step.</p>\n"
            }
            return
        }
        let largest = max((step.sites + step.shrunk).map { abs($0.delta) }.max() ?? 1, 1)
        for (title, list) in [("Grew", step.sites), ("Shrank", step.shrunk)] where !list.isEmpty {
            out += "<h4>\(title) (allocator wrappers folded: the first real caller is named)</h4>\n"
            out += "<div class=\"sites\">\n"
            for site in list { siteRow(site, scale: largest) }
            out += "</div>\n"
        }
    }

    mutating func siteRow(_ site: Site, scale: Int) {
        let tone = HTMLPage.tone(site.delta)
        let named = site.path.firstIndex(of: site.function) ?? 0
        let callers = site.path.dropFirst(named + 1)
        let shown = callers.prefix(5).map(RunReport.shortName)
        out += "<div><div class=\"fn\" title=\"\(HTML.escape(site.function))\">"
        out += "\(HTML.escape(RunReport.shortName(site.function)))</div>"
        if !shown.isEmpty {
            out += "<div class=\"callers\" title=\"\(HTML.escape(site.path.joined(separator: "\n← ")))\">← "
            out += HTML.escape(shown.joined(separator: " ← "))
            if callers.count > shown.count { out += " ← … \(callers.count - shown.count) more" }
            out += "</div>"
        }
        out += "</div><div class=\"num \(tone)\">\(HTML.escape(Format.signedBytes(site.delta)))</div>"
        out += "<div class=\"track\"><div class=\"fill \(tone)\" "
        out += "style=\"width:\(HTML.percent(Double(abs(site.delta)), of: Double(scale)))\"></div></div>\n"
    }

    /// A repeated step's rounds as columns (total after each round), growing rounds in red.
    mutating func rounds(_ step: StepReport, leak: LeakVerdict) {
        let rounds = manifest.snapshots(ofStep: step.label).filter { $0.phase == .after && $0.round != nil }
        out += "<h4>Leak check over \(leak.rounds) rounds</h4>\n<p>"
        out += HTMLPage.badge(leak.flagged ? "LEAK" : "ok", good: !leak.flagged)
        out += " \(HTML.escape(Format.signedBytes(leak.growth))) from after round 1 to after round \(leak.rounds); "
        out += "grew in \(leak.growingRounds) of \(leak.rounds - 1) rounds "
        out += "(\(Format.decimal(leak.growingFraction * 100))%). Flagged at "
        out += "\(HTML.escape(Format.bytes(Int(clamping: manifest.budgets.leakMinGrowth)))) and "
        out += "\(Format.decimal(manifest.budgets.leakMinRoundsFraction * 100))% of the rounds.</p>\n"
        if let first = rounds.first {
            // Growth since the first round, on a scale that always holds the leak threshold, so that a
            // flat step looks flat and a leak crosses the dashed line.
            let threshold = Double(manifest.budgets.leakMinGrowth)
            let growth = rounds.map { Double($0.totalBytes - first.totalBytes) }
            let scale = max(growth.max() ?? 0, threshold, 1) * 1.1
            out += "<div class=\"rounds\" role=\"img\" aria-label=\"heap growth since the first round, per round\">"
            out += "<span class=\"threshold\" style=\"bottom:\(HTML.percent(threshold, of: scale))\" "
            out +=
                "title=\"leak threshold \(HTML.escape(Format.bytes(Int(clamping: manifest.budgets.leakMinGrowth))))\">"
            out += "</span>"
            for (position, round) in rounds.enumerated() {
                let up = position > 0 && round.totalBytes > rounds[position - 1].totalBytes
                out += "<div\(up ? " class=\"up\"" : "") style=\"height:\(HTML.percent(growth[position], of: scale))\" "
                out +=
                    "title=\"round \(round.round ?? position + 1): \(HTML.escape(Format.bytes(round.totalBytes)))"
                out +=
                    " (\(HTML.escape(Format.signedBytes(round.totalBytes - first.totalBytes))) since round 1)\"></div>"
            }
            out += "</div><p class=\"muted\">Growth since the end of round 1, per round; red: more than the round "
            out += "before; dashed: the leak threshold "
            out += "\(HTML.escape(Format.bytes(Int(clamping: manifest.budgets.leakMinGrowth)))).</p>\n"
        }
        if leak.flagged && !leak.sites.isEmpty {
            out += "<h4>Grew from the first round to the last</h4>\n<div class=\"sites\">\n"
            let largest = max(leak.sites.map { abs($0.delta) }.max() ?? 1, 1)
            for site in leak.sites { siteRow(site, scale: largest) }
            out += "</div>\n"
        }
    }

    /// The allocation tree of the step's last snapshot, compared with its first.
    mutating func tree(_ step: StepReport) {
        let records = manifest.snapshots(ofStep: step.label)
        guard let last = records.last(where: { $0.phase == .after || $0.phase == .snap }),
            let after = snapshots[last.id]
        else { return }
        var first = records.first { $0.phase == .before || $0.phase == .snap }
        if step.kind == .snap, let own = first { first = RunReport.previousPoint(before: own, in: manifest) }
        let before = first.flatMap { $0.id == last.id ? nil : snapshots[$0.id] }
        guard treeStepIndexes.contains(step.index) else {
            out += "<p class=\"muted\">Allocation tree left out: this page draws the trees of "
            out += "\(options.treeSteps) steps (those that failed a check, then those that changed most). "
            out += "<code>snapctl massif diff</code> compares the step's snapshot files.</p>\n"
            return
        }
        guard let view = AllocationTreeView(after: after, before: before, folding: folding, limits: options.treeLimits)
        else { return }
        out += "<h4>Allocation tree at \(HTML.escape(last.label))"
        if let first, before != nil { out += ", change since \(HTML.escape(first.label))" }
        out += "</h4>\n"
        out += view.html()
    }

    /// The transient-memory lenses: allocated, churn and peak as bars, the sizing sentences, and a tree per
    /// lens (what the step allocated; the heap at its tallest sample against its before snapshot).
    mutating func lenses(_ step: StepReport) {
        guard step.hasLenses else { return }
        for problem in step.lensProblems ?? [] { out += "<div class=\"notice warn\">\(HTML.escape(problem))</div>\n" }
        for finding in step.sizing ?? [] {
            out += "<div class=\"notice warn\">\(HTML.escape(finding.sentence))</div>\n"
        }
        if let bytes = step.allocatedBytes, let allocated = step.allocated {
            out += "<h4 id=\"allocated-\(step.index)\">Allocated while running: "
            out += "\(HTML.escape(Format.bytes(bytes))) in \(Format.grouped(step.allocationCalls ?? 0)) "
            out += "allocation calls, freed or not</h4>\n"
            lensBars(allocated) {
                Format.bytes($0.bytes ?? 0)
            } value: {
                $0.bytes ?? 0
            }
            if let file = record(step)?.lenses?.allocations, let tree = xtrees[file]?.tree(.totalBytes),
                let view = AllocationTreeView(
                    after: TransientLenses.snapshot(tree),
                    before: nil,
                    folding: folding,
                    limits: options.treeLimits
                )
            {
                out += "<h4>What the step allocated, by call path</h4>\n" + view.html()
            }
        }
        if let churn = step.churn, !churn.isEmpty {
            out += "<h4>Churn: allocation calls by call path</h4>\n"
            lensBars(churn) {
                "\(Format.grouped($0.calls ?? 0)) calls"
            } value: {
                $0.calls ?? 0
            }
        }
        if let interval = step.peakInterval {
            out += "<h4 id=\"peak-\(step.index)\">Peak while running"
            if let growth = step.peakGrowth, let id = step.peakSnapshot {
                out +=
                    ": \(HTML.escape(Format.signedBytes(growth))) over the before snapshot at snapshot \(id)</h4>\n"
                out += "<p class=\"muted\">Sampled every \(interval) ms: a lower bound of the step's true peak.</p>\n"
                lensBars(step.peak ?? []) {
                    Format.signedBytes($0.bytes ?? 0)
                } value: {
                    $0.bytes ?? 0
                }
                let before = manifest.snapshots(ofStep: step.label).first { $0.phase == .before }
                if let peak = snapshots[id], let before, let old = snapshots[before.id],
                    let view = AllocationTreeView(
                        after: peak,
                        before: old,
                        folding: folding,
                        limits: options.treeLimits
                    )
                {
                    out += "<h4>Allocation tree at the peak sample, change since \(HTML.escape(before.label))</h4>\n"
                    out += view.html()
                }
            } else {
                out += "</h4>\n<p class=\"muted\">\(HTML.escape(step.peakNote ?? "no sample"))</p>\n"
            }
        }
    }

    func record(_ step: StepReport) -> StepRecord? { manifest.steps.first { $0.index == step.index } }

    /// Lens sites as bars on one scale, callers under each name, the sizing variables beside the name.
    mutating func lensBars(_ sites: [LensSite], figure: (LensSite) -> String, value: (LensSite) -> Int) {
        let largest = max(sites.map(value).max() ?? 1, 1)
        out += "<div class=\"sites\">\n"
        for site in sites {
            let named = site.path.firstIndex(of: site.function) ?? 0
            let shown = site.path.dropFirst(named + 1).prefix(5).map(RunReport.shortName)
            out += "<div><div class=\"fn\" title=\"\(HTML.escape(site.function))\">"
            out += HTML.escape(RunReport.shortName(site.function))
            if let variables = site.variables {
                out += " <span class=\"muted\">[\(HTML.escape(variables.joined(separator: ", ")))]</span>"
            }
            out += "</div>"
            if !shown.isEmpty {
                out += "<div class=\"callers\" title=\"\(HTML.escape(site.path.joined(separator: "\n← ")))\">← "
                out += HTML.escape(shown.joined(separator: " ← ")) + "</div>"
            }
            out += "</div><div class=\"num grew\">\(HTML.escape(figure(site)))</div>"
            out += "<div class=\"track\"><div class=\"fill grew\" "
            out += "style=\"width:\(HTML.percent(Double(value(site)), of: Double(largest)))\"></div></div>\n"
        }
        out += "</div>\n"
    }

    static func clip(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "\n… (\(text.count - limit) more characters; the plan has them all)"
    }
}
