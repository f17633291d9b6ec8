import Massif
import MySQLServer
import Report
import RunRecord
import Testing

@testable import REPL

@Suite("what the REPL prints for snaps, diff, top and counters")
struct ReplFormatTests {
    static func frame(_ address: Int, _ function: String, _ location: String = "in /usr/sbin/mariadbd") -> Frame {
        let text = "0x\(String(address, radix: 16, uppercase: true)): \(function) (\(location))"
        // Never taken: CodeFrame(text:) fails only on text that does not start with 0x<hex>: .
        guard let code = CodeFrame(text: text) else { return .belowThreshold(places: 0, thresholdHundredths: 0) }
        return .code(code)
    }

    /// malloc <- my_malloc <- sort_buffer (the growth), and malloc <- open_table.
    static func snapshot(sort: Int, open: Int, index: Int) -> Massif.Snapshot {
        let sortSite = HeapNode(
            bytes: sort,
            frame: frame(0x10, "my_malloc"),
            children: [HeapNode(bytes: sort, frame: frame(0x20, "filesort(THD*)", "filesort.cc:120"))]
        )
        let openSite = HeapNode(bytes: open, frame: frame(0x30, "open_table(THD*)", "sql_base.cc:99"))
        let children = [sortSite, openSite].filter { $0.bytes > 0 }
        return Massif.Snapshot(
            index: index,
            time: index * 100,
            heapBytes: sort + open,
            extraBytes: 16,
            stacksBytes: 0,
            kind: .detailed,
            tree: HeapTree(bytes: sort + open, children: children)
        )
    }

    static func record(
        _ id: Int,
        step: String,
        phase: SnapshotPhase,
        kind: SnapshotKind = .detailed,
        total: Int
    )
        -> SnapshotRecord
    {
        SnapshotRecord(
            id: id,
            step: step,
            phase: phase,
            file: "snapshots/\(id).massif",
            kind: kind,
            time: Double(id),
            massifTime: id,
            heapBytes: total - 16,
            extraBytes: 16,
            stacksBytes: 0,
            timelineIndex: id - 1,
            triggerLatencyMilliseconds: 4
        )
    }

    @Test func listsSnapshotsWithTheirChange() {
        let text = ReplFormat.snapshotList([
            Self.record(1, step: "before-q", phase: .snap, total: 2048),
            Self.record(2, step: "q", phase: .after, kind: .light, total: 3072),
            Self.record(3, step: "end", phase: .final, total: 1024),
        ])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("#    label     kind"))
        #expect(lines[1].hasPrefix("1    before-q  detailed     2.0 KiB            -"))
        #expect(lines[2].hasPrefix("2    after-q   light        3.0 KiB     +1.0 KiB"))
        #expect(lines[3].hasPrefix("3    final     detailed     1.0 KiB     -2.0 KiB"))
        #expect(ReplFormat.snapshotList([]) == "no snapshots yet (snap LABEL takes one)\n")
    }

    @Test func diffNamesTheFirstRealCallerThatGrew() {
        let before = Self.snapshot(sort: 1000, open: 500, index: 0)
        let after = Self.snapshot(sort: 65536 + 1000, open: 200, index: 1)
        let text = ReplFormat.diff(
            SnapshotDiff(before: before, after: after),
            before: Self.record(1, step: "before-query", phase: .snap, total: 1516),
            after: Self.record(2, step: "after-query", phase: .snap, total: 66752),
            top: 10
        )
        #expect(
            text.hasPrefix("'before-query' -> 'after-query': total 1.5 KiB -> 65.2 KiB (+63.7 KiB); heap +63.7 KiB")
        )
        // my_malloc is folded: the site is filesort.
        #expect(text.contains("grew (allocator wrappers folded):\n     +64.0 KiB  filesort(THD*) (filesort.cc:120)\n"))
        #expect(text.contains("shrank:\n        -300 B  open_table(THD*) (sql_base.cc:99)\n"))
        #expect(!text.contains("my_malloc"))
    }

    @Test func diffOfALightSnapshotHasTotalsOnly() {
        var light = Self.snapshot(sort: 10, open: 0, index: 1)
        light.tree = nil
        light.kind = .empty
        let text = ReplFormat.diff(
            SnapshotDiff(before: Self.snapshot(sort: 5, open: 0, index: 0), after: light),
            before: Self.record(1, step: "a", phase: .snap, total: 21),
            after: Self.record(2, step: "b", phase: .snap, kind: .light, total: 26),
            top: 10
        )
        #expect(text.hasSuffix("no call sites: 'b' is a light snapshot (totals only)\n"))
    }

    @Test func diffSaysHowManyMoreSitesThereAre() {
        let before = Self.snapshot(sort: 100, open: 100, index: 0)
        let after = Self.snapshot(sort: 200, open: 300, index: 1)
        let text = ReplFormat.diff(
            SnapshotDiff(before: before, after: after),
            before: Self.record(1, step: "a", phase: .snap, total: 216),
            after: Self.record(2, step: "b", phase: .snap, total: 516),
            top: 1
        )
        #expect(text.contains("+200 B  open_table(THD*) (sql_base.cc:99)\n"))
        #expect(text.contains("  ... 1 more (diff A B --top N shows more)\n"))
    }

    @Test func topListsTheLargestSitesFolded() {
        let snapshot = Self.snapshot(sort: 3000, open: 1000, index: 0)
        let text = ReplFormat.top(snapshot, record: Self.record(4, step: "x", phase: .snap, total: 4016), count: 5)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(
            lines[0]
                == "top allocation sites of 'x' (snapshot 4, heap 3.9 KiB, total 3.9 KiB; allocator wrappers folded)"
        )
        #expect(lines[1] == "      2.9 KiB  75.0%  filesort(THD*) (filesort.cc:120)")
        #expect(lines[2] == "       1000 B  25.0%  open_table(THD*) (sql_base.cc:99)")
    }

    @Test func showsCounters() {
        let counters = ServerCounters(
            memoryUsed: 2 << 20,
            processlist: [ProcessMemory(id: 4, user: "root", command: "Query", memoryUsed: 2048)]
        )
        let text = ReplFormat.counters(counters)
        #expect(
            text.hasPrefix("Memory_used: 2.0 MiB (2097152 B)\nPROCESSLIST.MEMORY_USED: 2.0 KiB over 1 connection\n")
        )
        #expect(text.contains("|  4 | root | Query   | 2.0 KiB     |"))
    }

    @Test func showsServerErrorsAsTheClientDoes() {
        let error = StepError(code: 1146, sqlState: "42S02", message: "Table 'app.t' doesn't exist", expected: false)
        #expect(ReplFormat.sqlError(error) == "ERROR 1146 (42S02): Table 'app.t' doesn't exist")
        #expect(ReplFormat.sqlError(StepError(message: "no server", expected: false)) == "ERROR: no server")
    }

    @Test func findsSnapshotsByLabelOrNumber() {
        let snapshots = [
            Self.record(1, step: "load", phase: .before, total: 10),
            Self.record(2, step: "load", phase: .after, total: 20),
        ]
        #expect(SnapshotLookup.find("after-load", in: snapshots)?.id == 2)
        #expect(SnapshotLookup.find("#1", in: snapshots)?.id == 1)
        #expect(SnapshotLookup.find("2", in: snapshots)?.id == 2)
        #expect(SnapshotLookup.find("load", in: snapshots) == nil)
        #expect(
            SnapshotLookup.unknown("after-lod", in: snapshots)
                == "no snapshot 'after-lod'; did you mean 'after-load'?; the snapshots are: before-load, after-load"
        )
        #expect(
            SnapshotLookup.unknown("x", in: []) == "no snapshot 'x': there are no snapshots yet (snap LABEL takes one)"
        )
    }

    @Test func statementCounts() {
        let result = QueryResult(columns: [], rows: [], affectedRows: 3, warningCount: 1, insertID: 0)
        #expect(ReplFormat.statementDone(result, seconds: 0.125) == "Query OK, 3 rows affected, 1 warning (0.13 s)\n")
    }
}
