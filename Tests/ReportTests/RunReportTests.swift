import Foundation
import Massif
import RunRecord
import Testing

@testable import Report

/// Reports built from hand-made manifests and massif snapshots: the verdicts and the sites.
@Suite struct RunReportTests {
    /// A detailed snapshot: `filesort` allocating `sort` bytes through `my_malloc`, and `main` 1000.
    static func snapshot(sort: Int, extra: Int = 0) throws -> Snapshot {
        let total = sort + 1000
        let text = """
            desc: (none)
            cmd: mariadbd
            time_unit: i
            #-----------
            snapshot=0
            #-----------
            time=10
            mem_heap_B=\(total)
            mem_heap_extra_B=\(extra)
            mem_stacks_B=0
            heap_tree=detailed
            n2: \(total) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
             n1: \(sort) 0x401136: my_malloc (in /usr/sbin/mariadbd)
              n1: \(sort) 0x401150: filesort(THD*) (in /usr/sbin/mariadbd)
               n0: \(sort) 0x401170: mysql_execute_command(THD*) (in /usr/sbin/mariadbd)
             n0: 1000 0x401160: main (a.c:9)

            """
        return try #require(try MassifFile.parse(text, fileName: "s.massif").snapshots.first)
    }

    static func record(_ id: Int, step: String, phase: SnapshotPhase, round: Int? = nil, total: Int) -> SnapshotRecord {
        SnapshotRecord(
            id: id,
            step: step,
            phase: phase,
            round: round,
            file: RunLayout.snapshotFile(id: id, phase: phase, fileSafeLabel: step, round: round),
            kind: .detailed,
            time: Double(id),
            massifTime: id * 10,
            heapBytes: total,
            extraBytes: 0,
            stacksBytes: 0,
            timelineIndex: id - 1,
            triggerLatencyMilliseconds: 4
        )
    }

    static func manifest(steps: [StepRecord], budgets: RunManifest.Budgets) -> RunManifest {
        var manifest = RunManifest(
            tool: .init(version: "test"),
            plan: .init(name: "unit", source: "unit.yaml"),
            startedAt: "2026-11-21T06:00:00Z",
            budgets: budgets,
            steps: steps
        )
        manifest.outcome = .init(status: .completed, exitCode: 0)
        return manifest
    }

    static func step(_ index: Int, _ label: String, repeat rounds: Int = 1) -> StepRecord {
        var step = StepRecord(
            index: index,
            label: label,
            kind: .sql,
            connection: "main",
            sql: ["SELECT 1"],
            repeat: rounds
        )
        step.outcome = .ok
        step.rounds = rounds
        step.duration = 0.25
        return step
    }

    @Test("a snap step reports the change since the snapshot before it, with its sites")
    func snapStepsMeasureFromThePreviousSnapshot() throws {
        var snapA = StepRecord(index: 1, label: "before-query", kind: .snap)
        snapA.outcome = .ok
        var snapB = StepRecord(index: 3, label: "after-query", kind: .snap)
        snapB.outcome = .ok
        var query = Self.step(2, "sql-2")
        query.outcome = .ok
        var manifest = Self.manifest(steps: [snapA, query, snapB], budgets: .init(maxGrowth: ["after-query": 1000]))
        manifest.snapshots = [
            Self.record(1, step: "before-query", phase: .snap, total: 1100),
            Self.record(2, step: "after-query", phase: .snap, total: 9000),
        ]
        let report = RunReport.make(
            manifest: manifest,
            snapshots: [1: try Self.snapshot(sort: 100), 2: try Self.snapshot(sort: 8000)]
        )
        let first = try #require(report.steps.first)
        #expect(first.since == nil)
        #expect(first.delta == nil)
        let after = try #require(report.steps.last)
        #expect(after.since == "before-query")
        #expect(after.before == 1100)
        #expect(after.delta == 7900)
        #expect(after.sites.first?.function == "filesort(THD*)")
        #expect(report.budgets.first { $0.step == "after-query" }?.passed == false)
        #expect(report.text().contains("[3] after-query (snap): ok, heap +7.7 KiB since 'before-query'"))
        #expect(String(decoding: report.jsonData(), as: UTF8.self).contains("\"since_snapshot\" : \"before-query\""))
    }

    @Test func namesTheFirstRealCallerOfTheGrowthAndChecksMaxGrowth() throws {
        var manifest = Self.manifest(
            steps: [Self.step(1, "sort")],
            budgets: .init(maxHeap: 10_000, maxGrowth: ["sort": 4096])
        )
        manifest.snapshots = [
            Self.record(1, step: "sort", phase: .before, total: 1100),
            Self.record(2, step: "sort", phase: .after, total: 9000),
        ]
        let report = RunReport.make(
            manifest: manifest,
            snapshots: [1: try Self.snapshot(sort: 100), 2: try Self.snapshot(sort: 8000)]
        )
        let step = try #require(report.steps.first)
        #expect(step.before == 1100)
        #expect(step.after == 9000)
        #expect(step.delta == 7900)
        let site = try #require(step.sites.first)
        #expect(site.function == "filesort(THD*)")
        #expect(site.delta == 7900)
        #expect(site.path == ["filesort(THD*)", "mysql_execute_command(THD*)"])
        #expect(report.budgets.count == 2)
        let growth = try #require(report.budgets.first { $0.budget == "max_growth" })
        #expect(!growth.passed)
        #expect(growth.measured == 7900)
        let heap = try #require(report.budgets.first { $0.budget == "max_heap" })
        #expect(heap.passed)
        #expect(heap.measured == 9000)
        #expect(!report.withinBudgets)

        let text = report.text()
        #expect(text.contains("FAIL max_growth of sort: +7.7 KiB (limit 4.0 KiB)"))
        #expect(text.contains("ok   max_heap: 8.8 KiB (limit 9.8 KiB)"))
        #expect(text.contains("filesort(THD*)"))
        #expect(text.contains("<- mysql_execute_command(THD*)"))
    }

    @Test func flagsALeakWhenMostRoundsGrowAndTheTotalPassesTheThreshold() throws {
        var manifest = Self.manifest(
            steps: [Self.step(1, "leaky", repeat: 6), Self.step(2, "flat", repeat: 6)],
            budgets: .init(leakMinGrowth: 1000, leakMinRoundsFraction: 0.8)
        )
        // leaky: grows in 4 of 5 transitions (0.8), by 5000 in all; flat: grows in 2 of 5.
        let leaky = [1000, 2000, 3000, 3000, 5000, 6000]
        let flat = [1000, 2000, 1000, 2000, 1000, 1500]
        var records: [SnapshotRecord] = []
        var trees: [Int: Snapshot] = [:]
        var id = 1
        for (label, totals) in [("leaky", leaky), ("flat", flat)] {
            records.append(Self.record(id, step: label, phase: .before, total: 1000))
            trees[id] = try Self.snapshot(sort: 0)
            id += 1
            for (round, total) in totals.enumerated() {
                records.append(Self.record(id, step: label, phase: .after, round: round + 1, total: total))
                trees[id] = try Self.snapshot(sort: total - 1000)
                id += 1
            }
        }
        manifest.snapshots = records
        let report = RunReport.make(manifest: manifest, snapshots: trees)
        #expect(report.leaks.count == 2)
        let leak = try #require(report.leaks.first { $0.step == "leaky" })
        #expect(leak.flagged)
        #expect(leak.growingRounds == 4)
        #expect(leak.growth == 5000)
        #expect(leak.sites.first?.function == "filesort(THD*)")
        let ok = try #require(report.leaks.first { $0.step == "flat" })
        #expect(!ok.flagged)
        #expect(!report.withinBudgets)
        #expect(report.text().contains("LEAK leak check of leaky: +4.9 KiB over 6 rounds, growing in 4 of 5"))
    }

    @Test func lightSnapshotsGiveTotalsWithoutSites() throws {
        var manifest = Self.manifest(steps: [Self.step(1, "s")], budgets: .init())
        manifest.snapshots = [
            Self.record(1, step: "s", phase: .before, total: 1000),
            Self.record(2, step: "s", phase: .during, total: 50_000),
            Self.record(3, step: "s", phase: .after, total: 2000),
        ]
        let light = try #require(
            try MassifFile.parse(
                """
                desc: (none)
                cmd: x
                time_unit: i
                #-----------
                snapshot=0
                #-----------
                time=1
                mem_heap_B=1000
                mem_heap_extra_B=0
                mem_stacks_B=0
                heap_tree=empty

                """,
                fileName: "l"
            ).snapshots.first
        )
        let report = RunReport.make(manifest: manifest, snapshots: [1: light, 3: light])
        #expect(report.steps[0].delta == 1000)
        #expect(report.steps[0].sites.isEmpty)
        #expect(report.steps[0].duringPeak == 50_000)
        #expect(report.measuredPeak == 50_000)
        #expect(report.withinBudgets)
        #expect(report.text().contains("no budgets or leak checks in this plan"))
    }

    @Test func jsonRoundTripsAndCarriesTheVerdict() throws {
        var manifest = Self.manifest(steps: [Self.step(1, "s")], budgets: .init(maxHeap: 10))
        manifest.snapshots = [Self.record(1, step: "s", phase: .before, total: 1000)]
        let report = RunReport.make(manifest: manifest, snapshots: [:])
        let data = report.jsonData()
        #expect(try JSONDecoder().decode(RunReport.self, from: data) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["within_budgets"] as? Bool == false)
        #expect(object["schema"] as? String == "snapctl.report/1")
    }
}
