import Foundation
import MySQLServer
import Plan
import RunRecord
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `snapctl repl` driven from a pipe, against the real valgrind, vgdb and mariadbd.
@Suite("snapctl repl from a pipe (integration)", .serialized)
struct ReplPipedTests {
    typealias Checks = RunChecks

    static let plan = """
        version: 1
        name: repl-piped
        server:
          init_sql: [CREATE DATABASE app]
        massif:
          options: [--threshold=0.1]
        connections:
          - {name: main, user: root, database: app}
        steps:
          - label: create
            sql: CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200))
          - label: load
            sql_file: load.sql
            budget: {max_growth: 64MiB}

        """

    @Test("every command from a pipe; the end of input finalises (exit 0); save-plan replays with snapctl session")
    func wholeCommandSet() async throws {
        let scratch = try Scratch("all")
        defer { scratch.cleanup() }
        let plan = try scratch.write("plan.yaml", Self.plan)
        try scratch.write(
            "load.sql",
            "INSERT INTO t (v) VALUES (REPEAT('a', 100));\nINSERT INTO t (v) SELECT v FROM t;\n"
        )
        let (status, stdout, stderr) = try await ReplProcess.script(
            ["repl", plan, "--out", scratch.run],
            [
                "help",
                "help diff",
                "snap before-query",
                "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200));",
                "INSERT INTO t (v)",
                "  VALUES (REPEAT('x', 150)),",
                "         (REPEAT('y', 150));",
                "SELECT id, LENGTH(v) AS n",
                "  FROM t ORDER BY id;",
                "snap after-query",
                "snap --light quick",
                "snaps",
                "diff before-query after-query --top 3",
                "top after-query --top 4",
                "counters",
                "connect second root@app",
                "SELECT COUNT(*) AS c FROM t;",
                "use main",
                "step load",
                "step load",
                "top",
                "monitor v.info n_errs_found",
                "report",
                "save-plan saved.yaml",
            ],
            scratch: scratch
        )
        #expect(status == 0, "\(stderr)")
        #expect(stderr.contains("server ") && stderr.contains(" ready (pid "), "\(stderr)")
        // From a pipe: no prompt and no escape codes.
        #expect(!stdout.contains("\u{1B}") && !stderr.contains("\u{1B}"))
        #expect(!stdout.contains("snapctl main>") && !stderr.contains("snapctl main>"))
        // help
        #expect(stdout.contains("  snap [--light] LABEL "))
        #expect(stdout.contains("usage: diff [--allocated] A B [--top N]\n"))
        // snapshots
        #expect(stdout.contains("snapshot 1 'before-query' (detailed): "))
        #expect(stdout.contains("snapshot 2 'after-query' (detailed): "))
        #expect(stdout.contains(" since 'before-query'\n"))
        #expect(stdout.contains("snapshot 3 'quick' (light): "))
        // SQL, including statements over several lines
        #expect(stdout.contains("Query OK, 0 rows affected"))
        #expect(stdout.contains("Query OK, 2 rows affected"))
        #expect(stdout.contains("| id | n   |\n+----+-----+\n|  1 | 150 |\n|  2 | 150 |\n+----+-----+\n(2 rows)\n"))
        // snaps, diff, top, counters
        #expect(stdout.contains("1    before-query  detailed"))
        #expect(stdout.contains("3    quick         light"))
        #expect(stdout.contains("'before-query' -> 'after-query': total "))
        #expect(stdout.contains("grew (allocator wrappers folded):\n"))
        #expect(stdout.contains("top allocation sites of 'after-query' (snapshot 2, "))
        #expect(stdout.contains("Memory_used: "))
        #expect(stdout.contains("PROCESSLIST.MEMORY_USED: "))
        // connections
        #expect(stdout.contains("connected 'second' as root on database app; SQL now runs on it"))
        #expect(stdout.contains("| c |\n+---+\n| 2 |\n"))
        #expect(stdout.contains("SQL now runs on connection 'main'"))
        // plan steps, the second run labelled load-2
        #expect(stdout.contains("[8] load "))
        #expect(stdout.contains("[9] load-2 "))
        #expect(stderr.contains("step 'load' ran before; this run is labelled 'load-2'"))
        #expect(stdout.contains("top allocation sites of 'after-load-2' "))
        // monitor, report, save-plan
        #expect(stdout.contains("n_errs_found 0"))
        #expect(stdout.contains("snapctl report: repl-piped\n"))
        #expect(stdout.contains("outcome:  running"))
        #expect(stdout.contains("wrote saved.yaml: 9 steps; snapctl session saved.yaml replays them"))
        #expect(stdout.split(separator: "\n").last.map(String.init) == scratch.run)

        // The run is recorded as a session records it.
        try Checks.expectFinalised(scratch.run, exitCode: 0, status: .completed, files: ReplProcess.runFiles)
        let manifest = try Checks.manifest(scratch.run)
        #expect(
            manifest.steps.map(\.label) == [
                "before-query", "sql-2", "sql-3", "sql-4", "after-query", "quick", "sql-7", "load", "load-2",
            ]
        )
        #expect(
            manifest.steps.map(\.kind) == [.snap, .sql, .sql, .sql, .snap, .snap, .sql, .sqlFile, .sqlFile]
        )
        #expect(manifest.steps.allSatisfy { $0.outcome == .ok })
        #expect(
            manifest.steps[2].sql == ["INSERT INTO t (v)\n  VALUES (REPEAT('x', 150)),\n         (REPEAT('y', 150))"]
        )
        #expect(manifest.steps[6].connection == "second")
        #expect(manifest.steps[3].connection == "main")
        #expect(
            manifest.snapshots.map(\.label) == [
                "before-query", "after-query", "quick", "before-load", "after-load", "before-load-2", "after-load-2",
                "final",
            ]
        )
        #expect(manifest.snapshots.first { $0.label == "quick" }?.kind == .light)
        #expect(manifest.budgets.maxGrowth == ["load": 64 << 20, "load-2": 64 << 20])
        #expect(FileManager.default.fileExists(atPath: scratch.run + "/timeline.massif"))

        // save-plan wrote what was done, the run directory's plan.yaml says the same, and it loads.
        let saved = try String(contentsOfFile: scratch.path + "/saved.yaml", encoding: .utf8)
        #expect(try String(contentsOfFile: scratch.run + "/plan.yaml", encoding: .utf8) == saved)
        let replay = try Plan.load(yaml: saved, fileName: "saved.yaml")
        #expect(replay.steps.map(\.label) == manifest.steps.map(\.label))
        #expect(replay.connections.map(\.name) == ["main", "second"])
        #expect(replay.massif.options == ["--threshold=0.1"])
        #expect(replay.target.server?.initSQL == ["CREATE DATABASE app"])

        // snapctl session replays it: the same steps, every one ok.
        let session = try ReplProcess(
            ["session", scratch.path + "/saved.yaml", "--out", scratch.path + "/replayed"],
            scratch: scratch,
            name: "session"
        )
        session.endInput()
        #expect(try await session.exitStatus() == 0, "\(session.stderr)")
        let replayed = try Checks.manifest(scratch.path + "/replayed")
        #expect(replayed.steps.map(\.label) == manifest.steps.map(\.label))
        #expect(replayed.steps.allSatisfy { $0.outcome == .ok })
        #expect(replayed.snapshots.contains { $0.label == "quick" && $0.kind == .light })
        try Checks.expectFinalised(
            scratch.path + "/replayed",
            exitCode: 0,
            status: .completed,
            files: ReplProcess.runFiles
        )
    }
}

/// The REPL's transient-memory commands against the real server.
@Suite("snapctl repl: diff --allocated and peak (integration)", .serialized)
struct ReplLensTests {
    @Test("a plan with allocations: true gives every statement the allocated lens; diff --allocated and peak show it")
    func allocatedAndPeak() async throws {
        let scratch = try Scratch("lens")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "plan.yaml",
            """
            version: 1
            name: repl-lens
            server:
              init_sql: [CREATE DATABASE app]
            observe: []
            connections:
              - {name: main, database: app}
            allocations: true

            """
        )
        let (status, stdout, stderr) = try await ReplProcess.script(
            ["repl", plan, "--out", scratch.run],
            [
                "peak",
                "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64), n INT);",
                "INSERT INTO t SELECT seq, MD5(seq), seq % 97 FROM seq_1_to_20000;",
                "ANALYZE TABLE t;",
                "snap a",
                "SET SESSION sort_buffer_size = 16777216;",
                "SELECT id, v FROM t ORDER BY v DESC, n;",
                "peak",
                "snap b",
                "diff --allocated a b --top 3",
                "diff --allocated b b",
            ],
            scratch: scratch
        )
        #expect(status == 0, "\(stderr)")
        #expect(stderr.contains("peak: no statement has run yet") || stderr.contains("no statement has run yet"))
        #expect(stdout.contains("allocated from a to b (2 steps with the lens):"), "\(stdout)")
        #expect(stdout.contains("Filesort_buffer::alloc_sort_buffer"))
        #expect(stdout.contains("(sort_buffer_size = 16.0 MiB)"))
        #expect(stdout.contains("allocated while running: "))
        #expect(stderr.contains("no statement between b and b has the allocated lens"))
    }
}
