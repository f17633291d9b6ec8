import Foundation
import Massif
import RunRecord
import Testing

@testable import Report

/// A replica's report: the primary in the header, each step's replica state, and the growth through
/// replication code.
@Suite struct ReplicaReportTests {
    /// A detailed snapshot with `applied` bytes under `Rows_log_event::do_apply_event` and `other` bytes
    /// elsewhere.
    static func snapshot(applied: Int, other: Int) throws -> Snapshot {
        let total = applied + other
        let text = """
            desc: (none)
            cmd: mariadbd
            time_unit: i
            #-----------
            snapshot=0
            #-----------
            time=10
            mem_heap_B=\(total)
            mem_heap_extra_B=0
            mem_stacks_B=0
            heap_tree=detailed
            n2: \(total) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
             n1: \(applied) 0x401136: my_malloc (in /usr/sbin/mariadbd)
              n1: \(applied) 0x401150: open_table_from_share(THD*) (in /usr/sbin/mariadbd)
               n1: \(applied) 0x401160: ??? (in /usr/sbin/mariadbd)
                n0: \(applied) 0x401170: Rows_log_event::do_apply_event(rpl_group_info*) (in /usr/sbin/mariadbd)
             n0: \(other) 0x401180: THD::init_for_queries() (in /usr/sbin/mariadbd)

            """
        return try #require(try MassifFile.parse(text, fileName: "s.massif").snapshots.first)
    }

    @Test("text, JSON and HTML carry the primary, the replica's state and the replication-code growth")
    func replicaReport() throws {
        var write = RunReportTests.step(1, "write")
        write.on = "primary"
        write.replica = ReplicaState(
            ioRunning: "Yes",
            sqlRunning: "Yes",
            secondsBehind: 0,
            relayLogSpace: 1_048_576,
            lastIOErrno: 0,
            lastSQLErrno: 0,
            primaryPosition: "0-1-5",
            replicaPosition: "0-1-5",
            catchUpSeconds: 0.5,
            caughtUp: true
        )
        var local = RunReportTests.step(2, "local")
        local.outcome = .failed
        local.replica = ReplicaState(
            ioRunning: "Yes",
            sqlRunning: "No",
            lastSQLErrno: 1146,
            lastSQLError: "Table 'app.t' doesn't exist"
        )
        var manifest = RunReportTests.manifest(steps: [write, local], budgets: .init())
        manifest.primary = RunManifest.PrimaryInfo(
            mode: "managed",
            flavor: "mariadb",
            version: "10.11.19",
            address: "127.0.0.1:40123",
            catchUpTimeoutSeconds: 30
        )
        manifest.snapshots = [
            RunReportTests.record(1, step: "write", phase: .before, total: 2000),
            RunReportTests.record(2, step: "write", phase: .after, total: 10_000),
            RunReportTests.record(3, step: "local", phase: .before, total: 10_000),
            RunReportTests.record(4, step: "local", phase: .after, total: 14_000),
        ]
        let snapshots = [
            1: try Self.snapshot(applied: 1000, other: 1000),
            2: try Self.snapshot(applied: 9000, other: 1000),
            3: try Self.snapshot(applied: 9000, other: 1000),
            4: try Self.snapshot(applied: 9000, other: 5000),
        ]
        let report = RunReport.make(manifest: manifest, snapshots: snapshots)
        #expect(report.primary == "mariadb 10.11.19 at 127.0.0.1:40123 (started by snapctl, not profiled)")
        let first = try #require(report.steps.first)
        #expect(
            first.replicationGrowth
                == ReplicationGrowth(bytes: 8000, functions: ["Rows_log_event::do_apply_event(rpl_group_info*)"])
        )
        let second = try #require(report.steps.last)
        #expect(second.replicationGrowth == ReplicationGrowth(bytes: 0, functions: []))

        let text = report.text()
        #expect(text.contains("primary:  mariadb 10.11.19 at 127.0.0.1:40123"))
        #expect(text.contains("[1] write (sql on the primary): ok"))
        #expect(
            text.contains(
                "    replica: IO thread Yes, SQL thread Yes, 0 s behind, relay log 1.0 MiB, caught up in 0.50 s\n"
            )
        )
        #expect(text.contains("    replication code: +7.8 KiB in call paths through Rows_log_event::do_apply_event"))
        #expect(
            text.contains(
                "replica: IO thread Yes, SQL thread No, Seconds_Behind_Master NULL, last SQL error 1146: "
                    + "Table 'app.t' doesn't exist"
            )
        )
        let json = String(decoding: report.jsonData(), as: UTF8.self)
        #expect(json.contains("\"catch_up_s\" : 0.5"))
        #expect(json.contains("\"replication_code\""))
        #expect(json.contains("\"on\" : \"primary\""))
        // Decoded back, the report is the same.
        #expect(try JSONDecoder().decode(RunReport.self, from: report.jsonData()) == report)

        let html = LoadedRun(manifest: manifest, snapshots: snapshots).html(report)
        #expect(html.contains("SQL on the primary"))
        #expect(html.contains("primary mariadb 10.11.19 at 127.0.0.1:40123"))
        #expect(html.contains("last SQL error 1146"))
        #expect(html.contains("replication code"))
    }

    @Test("replication code is recognised by its exported names, not by other code")
    func markers() {
        #expect(ReplicationGrowth.isReplication("Rows_log_event::do_apply_event(rpl_group_info*)"))
        #expect(
            ReplicationGrowth.isReplication(
                "Log_event::read_log_event(IO_CACHE*, int*, Format_description_log_event const*, bool)"
            )
        )
        #expect(ReplicationGrowth.isReplication("handle_slave_sql"))
        #expect(!ReplicationGrowth.isReplication("open_table_from_share(THD*)"))
        #expect(!ReplicationGrowth.isReplication("??? (in /usr/sbin/mariadbd)"))
    }
}

@Suite("Building on every core")
struct ParallelMapTests {
    @Test("results keep the input's order, for none, one and many elements")
    func order() {
        #expect(ParallelMap.map([Int]()) { $0 * 2 }.isEmpty)
        #expect(ParallelMap.map([7]) { $0 * 2 } == [14])
        let many = Array(0..<1000)
        #expect(ParallelMap.map(many) { String($0) } == many.map { String($0) })
    }
}
