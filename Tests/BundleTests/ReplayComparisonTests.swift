import RunRecord
import Testing

@testable import Bundle

@Suite struct ReplayComparisonTests {
    /// A manifest whose steps changed the heap by these amounts (`nil`: no snapshots).
    static func manifest(_ deltas: [(String, Int?)], outcomes: [StepOutcome]? = nil) -> RunManifest {
        var manifest = RunManifest(tool: .init(version: "0"), plan: .init(name: "p", source: "p.yaml"), startedAt: "")
        var id = 1
        for (index, (label, delta)) in deltas.enumerated() {
            var step = StepRecord(index: index + 1, label: label, kind: .sql)
            step.outcome = outcomes?[index] ?? .ok
            manifest.steps.append(step)
            guard let delta else { continue }
            for (phase, total) in [(SnapshotPhase.before, 10_000_000), (.after, 10_000_000 + delta)] {
                manifest.snapshots.append(BundleComposerTests.snapshot(id, label, phase, total: total))
                id += 1
            }
        }
        return manifest
    }

    @Test("the tolerance is the larger of the fraction and the bytes")
    func tolerance() {
        let tolerance = ReplayTolerance()
        #expect(tolerance.allowed(for: 10 * 1024 * 1024) == 1_048_576)
        #expect(tolerance.allowed(for: 100 * 1024) == 64 * 1024)
        #expect(tolerance.allowed(for: -10 * 1024 * 1024) == 1_048_576)
        #expect(ReplayTolerance(fraction: 0.5, bytes: 0).allowed(for: 1000) == 500)
    }

    @Test("the headline is the step that grew most; within tolerance it reproduces")
    func reproduces() {
        let recorded = Self.manifest([("create", 20_000), ("fill", 6_000_000), ("drop", -6_000_000), ("settle", nil)])
        let replayed = Self.manifest([("create", 90_000), ("fill", 6_500_000), ("drop", -5_000_000), ("settle", nil)])
        let comparison = ReplayComparison.compare(recorded: recorded, replayed: replayed)
        #expect(comparison.headline == "fill")
        #expect(comparison.reproduced)
        #expect(comparison.rows.map(\.verdict) == [.differs, .reproduced, .differs, .notMeasured])
        #expect(comparison.rows[1].difference == 500_000)
        #expect(comparison.rows[0].allowed == 65_536)
        let table = comparison.table()
        #expect(table.contains("*  2  fill"))
        #expect(table.contains("+5.7 MiB"))
        #expect(table.contains("not reproduced (allowed +/-64.0 KiB)"))
        #expect(comparison.summary().hasPrefix("reproduced: step 'fill' grew +6.2 MiB against +5.7 MiB recorded"))
    }

    @Test("a headline outside the tolerance, or not measured in the replay, does not reproduce")
    func doesNotReproduce() {
        let recorded = Self.manifest([("fill", 6_000_000), ("other", 10)])
        let smaller = ReplayComparison.compare(
            recorded: recorded,
            replayed: Self.manifest([("fill", 5_000_000), ("other", 10)])
        )
        #expect(!smaller.reproduced)
        #expect(smaller.summary().contains("a difference of -976.6 KiB (allowed 585.9 KiB)"))
        let failed = ReplayComparison.compare(
            recorded: recorded,
            replayed: Self.manifest([("fill", nil), ("other", nil)], outcomes: [.failed, .notRun])
        )
        #expect(!failed.reproduced)
        #expect(failed.rows[0].verdict == .notMeasured)
        #expect(failed.summary().contains("its outcome was failed"))
        #expect(failed.table().contains("[failed]"))
        // A wider tolerance lets the smaller growth count.
        let wide = ReplayComparison.compare(
            recorded: recorded,
            replayed: Self.manifest([("fill", 5_000_000), ("other", 10)]),
            tolerance: ReplayTolerance(fraction: 0.2)
        )
        #expect(wide.reproduced)
    }

    @Test("version differences are warned about")
    func setupDifferences() {
        var recorded = Self.manifest([])
        var replayed = Self.manifest([])
        recorded.server = .init(
            mode: "managed",
            flavor: "mariadb",
            version: "10.11.6",
            pid: 1,
            valgrindVersion: "3.19.0"
        )
        replayed.server = .init(
            mode: "managed",
            flavor: "mariadb",
            version: "10.11.9",
            pid: 2,
            valgrindVersion: "3.22.0"
        )
        let warnings = Replay.setupDifferences(recorded: recorded, replayed: replayed)
        #expect(warnings.count == 2)
        #expect(warnings[0].contains("recorded with mariadb 10.11.6, replayed with mariadb 10.11.9"))
        #expect(warnings[1].contains("recorded with 3.19.0, replayed with 3.22.0"))
        replayed.server = recorded.server
        #expect(Replay.setupDifferences(recorded: recorded, replayed: replayed).isEmpty)
    }
}
