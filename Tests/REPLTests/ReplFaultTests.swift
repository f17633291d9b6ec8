import Foundation
import MySQLServer
import Plan
import RunRecord
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Bad input and faults at the REPL: each named clearly, the REPL going on, the run finalised.
@Suite("snapctl repl: bad input and faults (integration)", .serialized)
struct ReplFaultTests {
    typealias Checks = RunChecks

    @Test("bad input is named with what to do, and the REPL goes on")
    func badInput() async throws {
        let scratch = try Scratch("bad")
        defer { scratch.cleanup() }
        let (status, stdout, stderr) = try await ReplProcess.script(
            ["repl", "--out", scratch.run],
            [
                "snpa before",
                "SELECT * FROM mysql.missing;",
                "SELECT 42 AS answer;",
                "snap a",
                "diff a nosuch",
                "diff x y",
                "top nosuch",
                "step load",
                "use nosuch",
                "snap a",
                "snap 'bad label'",
                "snap before-a",
                "save-plan /nonexistent/dir/p.yaml",
                "monitor v.nosuch",
                "help nosuch",
                "quit",
                "SELECT 'never run';",
            ],
            scratch: scratch
        )
        #expect(status == 0, "\(stderr)")
        let errors = stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.map(String.init)
        #expect(
            errors == [
                "error: unknown command 'snpa'; did you mean 'snap'? (help lists commands)",
                "error: ERROR 1146 (42S02): Table 'mysql.missing' doesn't exist",
                "error: no snapshot 'nosuch'; the snapshots are: a",
                "error: no snapshot 'x'; the snapshots are: a",
                "error: no snapshot 'y'; the snapshots are: a",
                "error: no snapshot 'nosuch'; the snapshots are: a",
                "error: no plan step 'load': no plan with steps was loaded (snapctl repl PLAN.yaml loads one)",
                "error: no connection 'nosuch'; the connections are 'main' (connect NAME [USER@DB] opens another); "
                    + "to change the database, end it like SQL: use nosuch;",
                "error: label 'a' is already used; choose another (`snaps` lists the labels)",
                "error: label 'bad label' has characters a file name cannot have (' '); "
                    + "use letters, digits, '.', '_' and '-'",
                "error: cannot write /nonexistent/dir/p.yaml: No such file or directory; choose another file",
                "error: monitor v.nosuch: unknown monitor command (try 'help')",
                "error: no command 'nosuch' (help lists commands)",
            ]
        )
        // After the SQL error the next statement ran.
        #expect(stdout.contains("| answer |\n+--------+\n|     42 |\n"))
        #expect(stdout.contains("snapshot 1 'a' (detailed)"))
        #expect(!stdout.contains("never run"))

        try Checks.expectFinalised(scratch.run, exitCode: 0, status: .completed, files: ReplProcess.runFiles)
        let manifest = try Checks.manifest(scratch.run)
        // Each action is a step; the failed statement is recorded with its error, and the run completed.
        #expect(manifest.steps.map(\.label) == ["sql-1", "sql-2", "a", "before-a"])
        #expect(manifest.steps.map(\.outcome) == [.failed, .ok, .ok, .ok])
        #expect(manifest.steps[0].error?.code == 1146)
        // The statement that failed with a server error is replayed expecting it.
        let saved = try Plan.load(
            yaml: String(contentsOfFile: scratch.run + "/plan.yaml", encoding: .utf8),
            fileName: "plan.yaml"
        )
        #expect(saved.steps.first?.expect == Plan.Expectation(error: .code(1146)))
    }

    @Test("the server SIGKILLed mid-REPL: reported at once, the report offered, the run finalised (exit 4)")
    func serverKilled() async throws {
        let scratch = try Scratch("kill")
        defer { scratch.cleanup() }
        let repl = try ReplProcess(["repl", "--out", scratch.run], scratch: scratch)
        repl.send("snap one")
        try await repl.waitFor("snapshot 1 'one'")
        let pid = try #require(try Checks.manifest(scratch.run).server?.pid)
        #expect(kill(pid, SIGKILL) == 0)
        // Reported while the REPL waits for input, before anything else is typed.
        try await repl.waitFor(
            "error: the server died: the server (valgrind pid \(pid)) died with signal 9",
            onStderr: true
        )
        #expect(repl.stderr.contains("`report` shows what was recorded; `quit` (or Ctrl-D) ends the run"))
        repl.send("snap two", "SELECT 1;", "report", "snaps", "quit")
        let status = try await repl.exitStatus()
        #expect(status == 4)
        #expect(
            repl.stderr.components(
                separatedBy: "error: the server is gone; `report` shows what was recorded, `quit` ends the run"
            )
            .count == 3
        )
        #expect(repl.stdout.contains("snapctl report: repl\n"))
        #expect(repl.stdout.contains("1    one "))
        #expect(repl.stderr.contains("server_died: the server (valgrind pid \(pid)) died with signal 9 (SIGKILL)"))
        try Checks.expectFinalised(scratch.run, exitCode: 4, status: .serverDied, files: ReplProcess.runFiles)
        let manifest = try Checks.manifest(scratch.run)
        #expect(manifest.steps.map(\.label) == ["one"])
        #expect(manifest.snapshots.map(\.label) == ["one"])
    }

    @Test("Ctrl-C stops a running statement with KILL QUERY and the REPL answers; SIGTERM ends it finalised (130)")
    func interruptAndTerminate() async throws {
        let scratch = try Scratch("int")
        defer { scratch.cleanup() }
        let repl = try ReplProcess(["repl", "--out", scratch.run], scratch: scratch)
        repl.send("SELECT SLEEP(60);")
        try await Self.waitUntilRunning("SELECT SLEEP(60)", socket: scratch.run + "/server/mysqld.sock")
        kill(repl.process.processIdentifier, SIGINT)
        try await repl.waitFor("error: statement interrupted (Ctrl-C): it was stopped with KILL QUERY", onStderr: true)
        repl.send("SELECT 7 AS seven;")
        try await repl.waitFor("|     7 |")
        kill(repl.process.processIdentifier, SIGTERM)
        #expect(try await repl.exitStatus() == 130)
        try Checks.expectFinalised(scratch.run, exitCode: 130, status: .interrupted, files: ReplProcess.runFiles)
        let manifest = try Checks.manifest(scratch.run)
        #expect(manifest.steps.map(\.outcome) == [.interrupted, .ok])
        #expect(manifest.steps[0].error?.message.contains("the query was killed") == true)
    }

    @Test("a server that cannot start: exit 2 and a finalised record; bad usage and bad plans: exit 1")
    func startFailures() async throws {
        let scratch = try Scratch("start")
        defer { scratch.cleanup() }
        let missing = try scratch.write("missing.yaml", "version: 1\nserver: {binary: /nonexistent/mariadbd}\n")
        let (status, _, stderr) = try await ReplProcess.script(
            ["repl", missing, "--out", scratch.run],
            [],
            scratch: scratch
        )
        #expect(status == 2)
        #expect(stderr.contains("/nonexistent/mariadbd"), "\(stderr)")
        try Checks.expectFinalised(scratch.run, exitCode: 2, status: .startFailed, files: ReplProcess.runFiles)

        let both = try await ReplProcess.script(["repl", missing, "--attach", "1"], [], scratch: scratch, name: "both")
        #expect(both.status == 1)
        #expect(both.stderr.contains("give a plan or --attach PID, not both"))

        let stray = try await ReplProcess.script(["repl", "--socket", "/tmp/s"], [], scratch: scratch, name: "stray")
        #expect(stray.status == 1)
        #expect(stray.stderr.contains("--socket go with --attach PID"))

        let bad = try scratch.write("bad.yaml", "version: 1\nconections: []\n")
        let badPlan = try await ReplProcess.script(["repl", bad], [], scratch: scratch, name: "badplan")
        #expect(badPlan.status == 1)
        #expect(badPlan.stderr.contains("bad.yaml:2:1: unknown key 'conections'"), "\(badPlan.stderr)")
    }

    @Test("--attach: the REPL works on a server already under valgrind and leaves it running")
    func attach() async throws {
        let scratch = try Scratch("att")
        defer { scratch.cleanup() }
        let serverDirectory = scratch.path + "/srv"
        try FileManager.default.createDirectory(atPath: serverDirectory, withIntermediateDirectories: true)
        let server = try await ManagedServer.launch(LaunchOptions(runDirectory: serverDirectory))
        let (status, stdout, stderr) = try await ReplProcess.script(
            [
                "repl", "--attach", String(server.valgrindPID), "--vgdb-prefix", server.vgdbPrefix, "--socket",
                server.socketPath, "--out", scratch.run,
            ],
            ["snap one", "SELECT 1 AS one;", "snap two", "diff one two"],
            scratch: scratch
        )
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("snapshot 2 'two'"))
        #expect(stdout.contains("'one' -> 'two': total "))
        let manifest = try Checks.manifest(scratch.run)
        #expect(manifest.server?.mode == "attached")
        #expect(manifest.outcome.status == .completed)
        #expect(manifest.snapshots.map(\.label) == ["one", "two", "final"])
        // Attached servers are not snapctl's to stop.
        #expect(kill(server.valgrindPID, 0) == 0)
        let attachedPlan = try Plan.load(
            yaml: String(contentsOfFile: scratch.run + "/plan.yaml", encoding: .utf8),
            fileName: "plan.yaml"
        )
        #expect(attachedPlan.target.attach?.pid == server.valgrindPID)
        _ = await server.shutdown()
        try? await server.removeDatadir()
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    /// Polls the server's process list until `statement` runs (through a connection of the test's own).
    static func waitUntilRunning(_ statement: String, socket: String) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let connection = try? await Connection.connect(
                ConnectionOptions(name: "test-watch", target: .socket(path: socket))
            ) {
                defer { Task { await connection.close() } }
                while ContinuousClock.now < deadline {
                    let result = try await connection.execute(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '\(statement)'"
                    )
                    if result.rows.first?.first == "1" { return }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("'\(statement)' never ran")
    }
}
