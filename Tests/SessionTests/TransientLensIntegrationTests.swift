import Foundation
import Report
import RunRecord
import Session
import TestSupport
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The transient-memory lenses against a real MariaDB under Massif with `--xtree-memory=full`.
@Suite("transient-memory lenses against MariaDB under Massif (integration)", .serialized)
struct TransientLensIntegrationTests {
    typealias Support = SessionTestSupport

    /// The culprit and the variable of a step, in the top 3 sites of a lens.
    static func names(_ sites: [LensSite]?, culprit: String, variable: String) -> Bool {
        (sites ?? []).prefix(3).contains { site in
            site.path.contains { $0.contains(culprit) } && site.variables?.contains(variable) == true
        }
    }

    @Test("examples/per-session-buffers.yaml: the sort buffer and the temporary table, named with their variables")
    func perSessionBuffers() async throws {
        let scratch = try Scratch("psb")
        defer { scratch.cleanup() }
        let events = Events()
        let result = try await Support.run(
            planFile: repositoryRoot + "/examples/per-session-buffers.yaml",
            out: scratch.run,
            events: events
        )
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.server?.valgrindCommand.contains("--xtree-memory=full") == true)

        let sort = try #require(result.report.steps.first { $0.label == "sort" })
        #expect((sort.allocatedBytes ?? 0) > 30_000_000, "the 32 MiB sort buffer is allocated and freed")
        #expect(Self.names(sort.allocated, culprit: "Filesort_buffer::alloc_sort_buffer", variable: "sort_buffer_size"))
        #expect(Self.names(sort.peak, culprit: "Filesort_buffer::alloc_sort_buffer", variable: "sort_buffer_size"))
        #expect((sort.peakGrowth ?? 0) > 30_000_000)
        #expect((sort.delta ?? 0) < 1_000_000, "after minus before does not see it")
        let sortFinding = try #require(sort.sizing?.first { $0.lens == "peak" })
        #expect(sortFinding.variables.first == "sort_buffer_size")
        #expect(sortFinding.value == 33_554_432, "the session value, not the global 2 MiB")
        #expect(sortFinding.maxConnections == 151)
        #expect(sortFinding.sentence.contains("(sort_buffer_size = 32.0 MiB); at max_connections = 151"))

        let group = try #require(result.report.steps.first { $0.label == "group-by" })
        #expect(Self.names(group.allocated, culprit: "handler::ha_write_tmp_row", variable: "tmp_table_size"))
        #expect(Self.names(group.peak, culprit: "handler::ha_write_tmp_row", variable: "tmp_table_size"))
        let groupFinding = try #require(group.sizing?.first { $0.lens == "peak" })
        #expect(groupFinding.value == 67_108_864)

        // Each lens step kept one small file of what it allocated; the raw dumps are gone.
        for label in ["sort", "group-by"] {
            let lenses = try #require(manifest.steps.first { $0.label == label }?.lenses)
            let file = try #require(lenses.allocations)
            let size = try FileManager.default.attributesOfItem(atPath: scratch.run + "/" + file)[.size] as? Int
            #expect((size ?? 0) > 0 && (size ?? 0) < 2_000_000, "\(file): \(size ?? -1) bytes")
            #expect(lenses.dumpMilliseconds?.count == 2)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.run + "/snapshots")
        #expect(!left.contains { $0.hasPrefix("xtree-") })
        try RunChecks.verifyChecksums(scratch.run)

        // report.txt and the step lines say it too.
        let text = try String(contentsOfFile: scratch.run + "/report.txt", encoding: .utf8)
        #expect(text.contains("sampled every 20 ms, so the true peak may be higher"))
        #expect(text.contains("(tmp_table_size = 64.0 MiB)"))
        let lensEvents = events.all.compactMap { event -> StepReport? in
            if case .stepLenses(let step) = event { return step }
            return nil
        }
        #expect(lensEvents.map(\.label) == ["sort", "group-by"])
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("budgets on each lens exit 3 and say what was measured")
    func budgetsExit3() async throws {
        let scratch = try Scratch("psbb")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "budgets.yaml",
            """
            version: 1
            name: lens-budgets
            server:
              init_sql: [CREATE DATABASE app]
            observe: []
            connections:
              - {name: main, database: app}
            steps:
              - label: load
                sql:
                  - CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200), n INT) ENGINE=InnoDB
                  - INSERT INTO t SELECT seq, MD5(seq), seq % 97 FROM seq_1_to_30000
                  - ANALYZE TABLE t
                snapshots: none
              - label: sort
                sql:
                  - SET SESSION sort_buffer_size = 33554432
                  - SELECT id, v FROM t ORDER BY v DESC, n
                allocations: true
                snapshots: {during: 20ms, peak: detailed}
                budget: {max_peak: 8MiB, max_allocated: 8MiB, max_allocations: 100}

            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 3, "\(result.manifest.outcome)")
        let failed = Set(result.report.budgets.filter { !$0.passed }.map(\.budget))
        #expect(failed == ["max_peak", "max_allocated", "max_allocations"])
        let text = try String(contentsOfFile: scratch.run + "/report.txt", encoding: .utf8)
        #expect(text.contains("FAIL max_allocated of sort: "))
        #expect(text.contains("(limit 8.0 MiB)"))
        #expect(text.contains("FAIL max_allocations of sort: "))
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("allocations against an attached valgrind started without --xtree-memory=full is refused, naming the flag")
    func attachWithoutXTreeMemoryRefused() async throws {
        let scratch = try Scratch("xa")
        defer { scratch.cleanup() }
        let prefix = scratch.path + "/vgdb"
        let valgrind = Process()
        valgrind.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
        valgrind.arguments = [
            "--tool=massif", "--vgdb=yes", "--vgdb-prefix=\(prefix)", "--massif-out-file=\(scratch.path)/m.out",
            "--xtree-memory=allocs", "--log-file=\(scratch.path)/vg.log", "/bin/sleep", "60",
        ]
        try valgrind.run()
        defer {
            kill(valgrind.processIdentifier, SIGKILL)
            valgrind.waitUntilExit()
        }
        let pid = valgrind.processIdentifier
        for _ in 0..<200 where fifos(under: scratch.path).isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
        let plan = try scratch.write(
            "xa.yaml",
            """
            version: 1
            name: xa
            attach: {pid: \(pid), vgdb_prefix: \(prefix)}
            steps: [{label: a, sql: SELECT 1, allocations: true}]
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 1)
        #expect(result.manifest.outcome.status == .startFailed)
        let message = result.manifest.outcome.message ?? ""
        #expect(
            message.contains("valgrind process \(pid) was started without --xtree-memory=full")
                && message.contains("--xtree-memory=allocs") && message.contains("remove allocations: true"),
            "\(message)"
        )
        #expect(kill(pid, 0) == 0, "snapctl must not stop a server it attached to")
        try Support.expectFinalised(result)
    }
}
