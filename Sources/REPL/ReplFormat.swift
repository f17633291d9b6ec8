import Massif
import MySQLServer
import Report
import RunRecord
import TextFormat

/// What the REPL prints for its commands: plain text built from records and snapshots, no I/O.
public enum ReplFormat {
    /// `snaps`: every snapshot with its label, kind, total and change from the one before.
    public static func snapshotList(_ snapshots: [SnapshotRecord]) -> String {
        guard !snapshots.isEmpty else { return "no snapshots yet (snap LABEL takes one)\n" }
        let labelWidth = max(5, snapshots.map(\.label.count).max() ?? 5)
        var out =
            Format.pad("#", 4) + " " + Format.pad("label", labelWidth) + "  " + Format.pad("kind", 8) + " "
            + Format.leftPad("total", 11)
            + " " + Format.leftPad("change", 12) + " " + Format.leftPad("time", 8) + "\n"
        var previous: Int?
        for snapshot in snapshots {
            out +=
                Format.pad(String(snapshot.id), 4) + " " + Format.pad(snapshot.label, labelWidth) + "  "
                + Format.pad(snapshot.kind.rawValue, 8)
            out += " " + Format.leftPad(Format.bytes(snapshot.totalBytes), 11)
            out += " " + Format.leftPad(previous.map { Format.signedBytes(snapshot.totalBytes - $0) } ?? "-", 12)
            out += " " + Format.leftPad(Format.seconds(snapshot.time), 8) + "\n"
            previous = snapshot.totalBytes
        }
        return out
    }

    /// The line after `snap`: the snapshot, its total and the change since the snapshot before it.
    public static func snapped(_ snapshot: SnapshotRecord, previous: SnapshotRecord?) -> String {
        var out = "snapshot \(snapshot.id) '\(snapshot.label)' (\(snapshot.kind)): "
        out += Format.bytes(snapshot.totalBytes)
        if let previous {
            out += ", \(Format.signedBytes(snapshot.totalBytes - previous.totalBytes)) since '\(previous.label)'"
        }
        return out + "\n"
    }

    /// `diff A B`: totals, then the call paths that grew most and those that shrank most.
    public static func diff(
        _ diff: SnapshotDiff,
        before: SnapshotRecord,
        after: SnapshotRecord,
        top: Int
    ) -> String {
        var out = "'\(before.label)' -> '\(after.label)': total "
        out += "\(Format.bytes(diff.total.before)) -> \(Format.bytes(diff.total.after))"
        out += " (\(Format.signedBytes(diff.total.delta)))"
        out += "; heap \(Format.signedBytes(diff.heap.delta)), extra \(Format.signedBytes(diff.extra.delta))\n"
        if diff.isTotalsOnly {
            let light = [before, after].filter { $0.kind == .light }.map { "'\($0.label)'" }
            out += "no call sites: \(light.joined(separator: " and ")) "
            out += light.count == 1 ? "is a light snapshot (totals only)\n" : "are light snapshots (totals only)\n"
            return out
        }
        let grew = diff.paths.filter { $0.change.delta > 0 }
        let shrank = diff.paths.filter { $0.change.delta < 0 }.sorted { $0.change.delta < $1.change.delta }
        if grew.isEmpty && shrank.isEmpty {
            out += "no call site changed\n"
            return out
        }
        if !grew.isEmpty {
            out += "grew (allocator wrappers folded):\n"
            for entry in grew.prefix(top) { out += pathLines(entry) }
            if grew.count > top { out += "  ... \(grew.count - top) more (diff A B --top N shows more)\n" }
        }
        if !shrank.isEmpty {
            out += "shrank:\n"
            for entry in shrank.prefix(min(top, 3)) { out += pathLines(entry) }
            if shrank.count > min(top, 3) { out += "  ... \(shrank.count - min(top, 3)) more\n" }
        }
        return out
    }

    /// One call path of a diff: the change, the named site, then its callers.
    static func pathLines(_ entry: SnapshotDiff.PathEntry) -> String {
        let names = entry.path.map(displayName)
        let named = names.firstIndex { !$0.hasPrefix("???") } ?? 0
        var out =
            "   " + Format.leftPad(Format.signedBytes(entry.change.delta), 11) + "  "
            + (names.isEmpty ? "?" : names[named])
        if entry.change.status == .appeared { out += "  (new)" }
        if entry.change.status == .vanished { out += "  (gone)" }
        out += "\n"
        let callers = names.dropFirst(named + 1).prefix(4).map(RunReport.shortName)
        if !callers.isEmpty { out += "                <- " + callers.joined(separator: " <- ") + "\n" }
        return out
    }

    /// `top`: the largest first-level allocation sites of a detailed snapshot.
    public static func top(_ snapshot: Massif.Snapshot, record: SnapshotRecord, count: Int) -> String {
        guard let tree = snapshot.tree else {
            return
                "'\(record.label)' is a light snapshot (totals only): \(Format.bytes(record.totalBytes))\n"
        }
        var out = "top allocation sites of '\(record.label)' (snapshot \(record.id), "
        out += "heap \(Format.bytes(snapshot.heapBytes)), "
        out += "total \(Format.bytes(snapshot.totalBytes)); allocator wrappers folded)\n"
        let sites = tree.topSites(count)
        if sites.isEmpty { return out + "  no allocations\n" }
        let base = max(1, snapshot.heapBytes)
        for site in sites {
            let percent = Double(site.bytes) / Double(base) * 100
            out +=
                "   " + Format.leftPad(Format.bytes(site.bytes), 10) + " " + Format.leftPad(Format.percent(percent), 6)
            out += "  " + MassifRenderer.describe(site.frame) + "\n"
        }
        return out
    }

    /// `counters`: the server's totals and each connection's memory.
    public static func counters(_ counters: ServerCounters) -> String {
        var out = ""
        if let memoryUsed = counters.memoryUsed {
            out += "Memory_used: \(Format.bytes(Int(clamping: memoryUsed))) (\(memoryUsed) B)\n"
        }
        if let bytes = counters.performanceSchemaBytes {
            out += "performance_schema: \(Format.bytes(Int(clamping: bytes)))\n"
        }
        if let status = counters.globalStatus {
            out += "global status: \(status.count) values read\n"
        }
        if let processlist = counters.processlist {
            let total = counters.processlistTotal ?? 0
            out += "PROCESSLIST.MEMORY_USED: \(Format.bytes(Int(clamping: total))) "
            out += "over \(processlist.count) connection\(processlist.count == 1 ? "" : "s")\n"
            let table = ResultTable(
                columns: ["id", "user", "command", "memory_used"],
                rows: processlist.map {
                    [String($0.id), $0.user, $0.command, Format.bytes(Int(clamping: $0.memoryUsed))]
                }
            )
            out += table.render(limit: Int.max)
        }
        if let error = counters.error { out += "not read: \(error)\n" }
        return out
    }

    /// What a statement did, without a result set: `Query OK, 3 rows affected`.
    public static func statementDone(_ result: QueryResult, seconds: Double?) -> String {
        var out = "Query OK, \(result.affectedRows) row\(result.affectedRows == 1 ? "" : "s") affected"
        if result.warningCount > 0 { out += ", \(result.warningCount) warning\(result.warningCount == 1 ? "" : "s")" }
        if let seconds { out += " (\(Format.seconds(seconds)))" }
        return out + "\n"
    }

    /// A step as `snapctl session` prints it: outcome, time, heap before and after, top growing site.
    public static func stepLine(
        _ record: StepRecord,
        snapshots: [SnapshotRecord],
        topSite: Site?
    ) -> String {
        let before = snapshots.first { $0.phase == .before || $0.phase == .snap }?.totalBytes
        let after = snapshots.last { $0.phase == .after || $0.phase == .snap }?.totalBytes
        let peak = snapshots.filter { $0.phase == .during }.map(\.totalBytes).max()
        return stepLine(record, before: before, after: after, peak: peak, topSite: topSite) + "\n"
    }

    /// A step's one line from its figures, without a newline: the REPL and `snapctl session` print the same.
    public static func stepLine(_ record: StepRecord, before: Int?, after: Int?, peak: Int?, topSite: Site?) -> String {
        var text = Format.pad("[\(record.index)] \(record.label)", 24) + " " + Format.pad(record.outcome.rawValue, 14)
        text += " " + Format.leftPad(record.duration.map(Format.seconds) ?? "-", 7)
        text += "  " + (before.map(Format.bytes) ?? "-") + " -> "
        text += after.map(Format.bytes) ?? "-"
        if let before, let after { text += "  " + Format.signedBytes(after - before) }
        if let topSite {
            text += "  " + RunReport.shortName(topSite.function) + " " + Format.signedBytes(topSite.delta)
        }
        if let peak { text += "  (peak \(Format.bytes(peak)) while running)" }
        return text
    }

    /// A server error as the `mariadb` client shows it: `ERROR 1146 (42S02): Table 't' doesn't exist`.
    public static func sqlError(_ error: StepError) -> String {
        guard let code = error.code else { return "ERROR: " + error.message }
        return "ERROR \(code)" + (error.sqlState.map { " (\($0))" } ?? "") + ": " + error.message
    }

    /// A frame description as a short name, as the report names sites.
    static func displayName(_ text: String) -> String {
        if text == HeapTree.belowThresholdKey { return text }
        guard let frame = CodeFrame(text: text) else { return text }
        return MassifRenderer.describe(.code(frame))
    }
}
