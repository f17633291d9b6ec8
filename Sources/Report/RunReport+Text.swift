import Massif
import RunRecord
import TextFormat

extension RunReport {
    /// `report.txt`: a table of steps, the growing sites of each step with their call paths, the server's
    /// counters, the envelope beside the measured peak, and the verdicts.
    public func text() -> String {
        var out = "snapctl report: \(plan)\n"
        if let server { out += (primary == nil ? "server:   " : "replica:  ") + "\(server)\n" }
        if let primary { out += "primary:  \(primary)\n" }
        out += "outcome:  \(status.rawValue)"
        if let exitCode { out += " (exit \(exitCode))" }
        out += "\n"
        if let message { out += "          \(message)\n" }
        out += "\n"

        out += "Steps (heap = heap + extra + stacks, after minus before; allocator wrappers folded)\n"
        let labelWidth = max(5, steps.map(\.label.count).max() ?? 5)
        out +=
            Format.pad("#", 3) + " " + Format.pad("step", labelWidth) + "  " + Format.pad("outcome", 14) + " "
            + Format.leftPad("time", 8)
            + " " + Format.leftPad("before", 11) + " " + Format.leftPad("after", 11) + " " + Format.leftPad("delta", 11)
            + "  top growing site\n"
        for step in steps {
            out += Format.pad(String(step.index), 3) + " " + Format.pad(step.label, labelWidth) + "  "
            out += Format.pad(step.outcome.rawValue, 14)
            out += " " + Format.leftPad(step.duration.map { Format.seconds($0) } ?? "-", 8)
            out += " " + Format.leftPad(step.before.map(Format.bytes) ?? "-", 11)
            out += " " + Format.leftPad(step.after.map(Format.bytes) ?? "-", 11)
            out += " " + Format.leftPad(step.delta.map(Format.signedBytes) ?? "-", 11)
            out +=
                "  " + (step.sites.first.map { "\(Self.shortName($0.function)) \(Format.signedBytes($0.delta))" } ?? "")
                + "\n"
        }

        for step in steps
        where !step.sites.isEmpty || step.error != nil || step.memoryUsedAfter != nil || step.replica != nil
            || step.replicationGrowth != nil || step.hasLenses
        {
            out += "\n[\(step.index)] \(step.label) (\(step.kind)"
            if step.on == "primary" { out += " on the primary" }
            if step.rounds > 1 { out += ", \(step.rounds) rounds" }
            out += "): \(step.outcome.rawValue)"
            if let delta = step.delta {
                out += ", heap \(Format.signedBytes(delta))" + (step.since.map { " since '\($0)'" } ?? "")
            }
            out += "\n"
            if let error = step.error { out += "    error: \(error)\n" }
            if let replica = step.replica { out += "    replica: \(Self.replicaSummary(replica))\n" }
            if let growth = step.replicationGrowth {
                out += "    replication code: \(Format.signedBytes(growth.bytes))"
                if !growth.functions.isEmpty {
                    out += " in call paths through " + growth.functions.map(Self.shortName).joined(separator: ", ")
                }
                out += "\n"
            }
            if let peak = step.duringPeak { out += "    peak while running: \(Format.bytes(peak))\n" }
            if let before = step.memoryUsedBefore, let after = step.memoryUsedAfter {
                out += "    server Memory_used: \(Format.bytes(Int(before))) -> "
                out += "\(Format.bytes(Int(after))) (\(Format.signedBytes(Int(after) - Int(before))))\n"
            }
            if let before = step.processlistBefore, let after = step.processlistAfter {
                out += "    PROCESSLIST.MEMORY_USED: \(Format.bytes(Int(before))) -> "
                out += "\(Format.bytes(Int(after))) (\(Format.signedBytes(Int(after) - Int(before))))\n"
            }
            if !step.sites.isEmpty {
                out += "    grew:\n"
                for site in step.sites { out += Self.siteLines(site) }
            }
            if !step.shrunk.isEmpty {
                out += "    shrank:\n"
                for site in step.shrunk.prefix(3) { out += Self.siteLines(site) }
            }
            out += Self.lensLines(step)
        }

        out += "\nMemory\n"
        if let measuredPeak {
            out += "    measured peak:       \(Format.bytes(measuredPeak))"
            if let measuredPeakSource { out += " (\(measuredPeakSource))" }
            out += "\n"
        }
        if let envelope {
            out += "    configured envelope: \(Format.bytes(Self.clamped(envelope.total)))"
            out += " = global buffers \(Format.bytes(Self.clamped(envelope.globalBuffers)))"
            out +=
                " + \(envelope.maxConnections) connections x \(Format.bytes(Self.clamped(envelope.perSession)))\n"
            if let measuredPeak, envelope.total > 0 {
                let percent = Double(measuredPeak) / Double(envelope.total) * 100
                out += "    peak is \(Format.decimal(percent))% of the envelope\n"
            }
        }

        out += "\nVerdicts\n"
        if budgets.isEmpty && leaks.isEmpty { out += "    no budgets or leak checks in this plan\n" }
        for verdict in budgets {
            let name = verdict.step.map { "\(verdict.budget) of \($0)" } ?? "max_heap"
            out += "    \(verdict.passed ? "ok  " : "FAIL") \(name): "
            if verdict.budget == "max_allocations" {
                out += verdict.measured.map { "\(Format.grouped($0)) calls" } ?? "not measured"
                out += " (limit \(Format.grouped(Int(clamping: verdict.limit))))"
            } else {
                let growth = verdict.budget == "max_growth" || verdict.budget == "max_peak"
                out += verdict.measured.map { Self.signedOrPlain($0, growth: growth) } ?? "not measured"
                out += " (limit \(Format.bytes(Int(clamping: verdict.limit))))"
            }
            if let note = verdict.note { out += "; \(note)" }
            out += "\n"
        }
        for leak in leaks {
            out +=
                "    \(leak.flagged ? "LEAK" : "ok  ") leak check of \(leak.step): \(Format.signedBytes(leak.growth))"
            out += " over \(leak.rounds) rounds, growing in \(leak.growingRounds) of \(leak.rounds - 1)\n"
            if leak.flagged {
                for site in leak.sites { out += Self.siteLines(site) }
            }
        }
        return out
    }

    /// The transient-memory lenses of a step: allocated, churn, peak, and the server variables behind them.
    public static func lensLines(_ step: StepReport) -> String {
        var out = ""
        for problem in step.lensProblems ?? [] { out += "    warning: \(problem)\n" }
        if let bytes = step.allocatedBytes {
            out += "    allocated while running: \(Format.bytes(bytes))"
            out += " in \(Format.grouped(step.allocationCalls ?? 0)) allocation calls (freed or not)\n"
            for site in step.allocated ?? [] {
                out += lensSiteLines(site, figure: Format.bytes(site.bytes ?? 0))
            }
        }
        if let churn = step.churn, !churn.isEmpty {
            out += "    churn (allocation calls):\n"
            for site in churn.prefix(3) {
                out += lensSiteLines(site, figure: "\(Format.grouped(site.calls ?? 0)) calls")
            }
        }
        if let interval = step.peakInterval {
            if let growth = step.peakGrowth, let snapshot = step.peakSnapshot {
                out +=
                    "    peak while running: \(Format.signedBytes(growth)) over the before snapshot (snapshot \(snapshot)); "
                out += "sampled every \(interval) ms, so the true peak may be higher\n"
                for site in step.peak ?? [] { out += lensSiteLines(site, figure: Format.signedBytes(site.bytes ?? 0)) }
            } else if let note = step.peakNote {
                out += "    peak: \(note)\n"
            }
        }
        for finding in step.sizing ?? [] { out += "    \(finding.sentence)\n" }
        return out
    }

    /// The lenses of a step in a line or two, for the session's step line and the REPL: what it allocated and
    /// where, its sampled peak and where, and the sizing sentence of the largest finding.
    public static func lensSummary(_ step: StepReport) -> [String] {
        var lines: [String] = []
        if let bytes = step.allocatedBytes {
            var text = "allocated \(Format.bytes(bytes)) in \(Format.grouped(step.allocationCalls ?? 0)) calls"
            if let site = step.allocated?.first {
                text += ", most in \(shortName(site.function)) \(Format.bytes(site.bytes ?? 0))"
            }
            lines.append(text)
        }
        if let growth = step.peakGrowth, let interval = step.peakInterval {
            var text = "peak \(Format.signedBytes(growth)) (sampled every \(interval) ms)"
            if let site = step.peak?.first {
                text += ", most in \(shortName(site.function)) \(Format.signedBytes(site.bytes ?? 0))"
            }
            lines.append(text)
        } else if let note = step.peakNote {
            lines.append("peak: " + note)
        }
        if let finding = step.sizing?.first { lines.append(finding.sentence) }
        for problem in step.lensProblems ?? [] { lines.append("warning: " + problem) }
        return lines
    }

    static func lensSiteLines(_ site: LensSite, figure: String) -> String {
        var line = "      " + Format.leftPad(figure, 14) + "  " + site.function
        if let variables = site.variables, !variables.isEmpty {
            line += "  [" + variables.joined(separator: ", ") + "]"
        }
        line += "\n"
        let named = site.path.firstIndex(of: site.function) ?? 0
        let callers = site.path.dropFirst(named + 1).prefix(6).map(shortName)
        if !callers.isEmpty { line += "                        <- " + callers.joined(separator: " <- ") + "\n" }
        return line
    }

    /// A C++ signature without its parameter list when it is long (`open_table_from_share(...)`), for
    /// one-line tables; the full names are in the site details.
    public static func shortName(_ function: String) -> String {
        guard function.count > 48, let open = function.firstIndex(of: "("), open != function.startIndex else {
            return function
        }
        return String(function[..<open]) + "(...)"
    }

    /// A site and its callers: the named function, then up to six callers, long C++ signatures
    /// shortened (report.json keeps them whole).
    static func siteLines(_ site: Site) -> String {
        var line = "       " + Format.leftPad(Format.signedBytes(site.delta), 11) + "  " + site.function + "\n"
        let named = site.path.firstIndex(of: site.function) ?? 0
        let callers = site.path.dropFirst(named + 1).prefix(6).map(shortName)
        if !callers.isEmpty {
            line += "                      <- " + callers.joined(separator: " <- ") + "\n"
        }
        return line
    }

    static func signedOrPlain(_ value: Int, growth: Bool) -> String {
        growth ? Format.signedBytes(value) : Format.bytes(value)
    }

    static func clamped(_ value: UInt64) -> Int { Int(clamping: value) }
}

extension RunReport {
    /// The replica's state in one line: `IO Yes, SQL Yes, 0 s behind, relay log 1.0 MiB, caught up in
    /// 0.94 s`, and the last errors when there are any.
    public static func replicaSummary(_ state: ReplicaState) -> String {
        var parts = ["IO thread \(state.ioRunning)", "SQL thread \(state.sqlRunning)"]
        parts.append(state.secondsBehind.map { "\($0) s behind" } ?? "Seconds_Behind_Master NULL")
        if let space = state.relayLogSpace {
            parts.append("relay log \(Format.bytes(Int(clamping: space)))")
        }
        if let seconds = state.catchUpSeconds {
            parts.append("caught up in \(Format.seconds(seconds))")
        } else if state.caughtUp == false {
            parts.append("did not catch up" + (state.primaryPosition.map { " with \($0)" } ?? ""))
        }
        if let errno = state.lastIOErrno, errno != 0 {
            parts.append("last IO error \(errno): \(state.lastIOError ?? "")")
        }
        if let errno = state.lastSQLErrno, errno != 0 {
            parts.append("last SQL error \(errno): \(state.lastSQLError ?? "")")
        }
        return parts.joined(separator: ", ")
    }
}
