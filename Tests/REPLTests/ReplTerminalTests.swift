import Foundation
import RunRecord
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A tmux server of the test's own, with one window running a command on a real terminal.
final class TmuxTerminal: Sendable {
    let socket: String
    let scratch: Scratch

    /// Starts `command` (a shell command line) in a detached 160x50 window.
    init(_ command: String, scratch: Scratch) throws {
        self.scratch = scratch
        socket = "snapctl-test-\(UUID().uuidString.prefix(8))"
        let status = try Self.tmux(["-L", socket, "new-session", "-d", "-s", "repl", "-x", "160", "-y", "50", command])
        guard status == 0 else {
            throw TestFailure(
                "tmux new-session failed with \(status); is tmux installed (scripts/setup)?"
            )
        }
    }

    /// Runs tmux and waits for it; returns its exit status and what it printed.
    ///
    /// With posix_spawn and an empty signal mask rather than Foundation's `Process`: a process started from
    /// a thread of the test's pool would otherwise inherit that thread's blocked signals, and the tmux
    /// server (a daemon the client forks) would inherit them too and never notice its children exit; it
    /// would also inherit the descriptor `Process` leaks and that `waitUntilExit` waits on.
    @discardableResult
    static func tmux(_ arguments: [String], output: String? = nil) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = (["/usr/bin/tmux"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw TestFailure("tmux could not be started: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Presses keys by tmux name (`Tab`, `Enter`, `C-c`, `Up`, `C-d`).
    func press(_ keys: String...) throws {
        try Self.tmux(["-L", socket, "send-keys", "-t", "repl"] + keys)
    }

    /// Types `text` literally (a `;` is escaped, or tmux would take it for a command separator).
    func type(_ text: String) throws {
        try Self.tmux(["-L", socket, "send-keys", "-t", "repl", "-l", text.replacingOccurrences(of: ";", with: "\\;")])
    }

    /// What the window shows, trailing blank lines dropped.
    func screen() throws -> String {
        let file = scratch.path + "/screen-\(socket)"
        try Self.tmux(["-L", socket, "capture-pane", "-p", "-t", "repl", "-S", "-200"], output: file)
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The line the cursor is on (the prompt and what is typed).
    func lastLine() throws -> String {
        try screen().split(separator: "\n").last.map(String.init) ?? ""
    }

    /// Waits until the window shows `text`; fails after a deadline only a hung REPL reaches.
    func waitFor(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(180)
        while !(try screen().contains(text)) {
            if ContinuousClock.now > deadline {
                let problem = TestFailure("the terminal never showed '\(text)':\n\(try screen())")
                Issue.record(problem, sourceLocation: sourceLocation)
                throw problem
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until the line being edited reads `text`.
    func waitForLine(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try lastLine().trimmingCharacters(in: .whitespaces) != text {
            if ContinuousClock.now > deadline {
                let problem = TestFailure("the line never read '\(text)':\n\(try screen())")
                Issue.record(problem, sourceLocation: sourceLocation)
                throw problem
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Ends the tmux server; a REPL still running gets SIGHUP from it, as from a closed terminal window.
    /// Stops the tmux server and waits (up to 10 s) until its process is gone: `kill-server` returns
    /// before the server has exited, and a test that checks for leftovers right after would see it.
    func close() {
        _ = try? Self.tmux(["-L", socket, "kill-server"])
        var waits = 0
        while waits < 200 && !processesMentioning("-L \(socket) ").isEmpty {
            usleep(50_000)
            waits += 1
        }
        unlink("/tmp/tmux-\(getuid())/\(socket)")
    }

    /// The shell line that runs the REPL, then reports its exit status and whether the terminal is back in
    /// canonical mode (`icanon`, not readline's `-icanon`).
    static func replCommand(scratch: Scratch, run: String, history: String) -> String {
        "cd \(scratch.path) && SNAPCTL_HISTFILE=\(history) \(Programs.snapctl) repl --out \(run); "
            + "echo EXITED $?; echo TTY $(stty -a | tr ' ;' '\\n\\n' | grep -x -- '-*icanon'); sleep 600"
    }
}

/// The REPL on a real terminal (tmux): line editing, completion, Ctrl-C and history.
@Suite("snapctl repl on a terminal (integration, tmux)", .serialized)
struct ReplTerminalTests {
    @Test("Tab completes commands and labels; Ctrl-C clears the input or kills the running statement")
    func completionAndInterrupts() async throws {
        let scratch = try Scratch("tty")
        defer { scratch.cleanup() }
        let history = scratch.path + "/history"
        let terminal = try TmuxTerminal(
            TmuxTerminal.replCommand(scratch: scratch, run: scratch.run, history: history),
            scratch: scratch
        )
        defer { terminal.close() }
        try await terminal.waitForLine("snapctl main>")

        // A command: "sn" completes to the common prefix of snap and snaps; Tab Tab then lists both, as
        // readline lists whenever a completion changes nothing.
        try terminal.type("sn")
        try terminal.press("Tab")
        try await terminal.waitForLine("snapctl main> snap")
        try terminal.press("Tab")
        try terminal.press("Tab")
        try await terminal.waitFor("snap   snaps")
        try terminal.type(" first")
        try terminal.press("Enter")
        try await terminal.waitFor("snapshot 1 'first' (detailed)")
        try terminal.type("snap second")
        try terminal.press("Enter")
        try await terminal.waitFor("snapshot 2 'second' (detailed)")

        // Labels after diff.
        try terminal.type("diff f")
        try terminal.press("Tab")
        try await terminal.waitForLine("snapctl main> diff first")
        try terminal.type("s")
        try terminal.press("Tab")
        try await terminal.waitForLine("snapctl main> diff first second")
        try terminal.press("Enter")
        try await terminal.waitFor("'first' -> 'second': total ")

        // Ctrl-C discards what is typed, and a statement continued over lines.
        try terminal.type("SELECT 'typed but cancelled'")
        try terminal.press("C-c")
        try await terminal.waitFor("SELECT 'typed but cancelled'^C")
        try await terminal.waitForLine("snapctl main>")
        try terminal.type("SELECT")
        try terminal.press("Enter")
        try await terminal.waitForLine("->")
        try terminal.press("C-c")
        try await terminal.waitForLine("snapctl main>")
        try terminal.type("SELECT 5 AS five;")
        try terminal.press("Enter")
        try await terminal.waitFor("|    5 |")

        // Ctrl-C while a statement runs: KILL QUERY, and the REPL still answers.
        try terminal.type("SELECT SLEEP(60);")
        try terminal.press("Enter")
        try await ReplFaultTests.waitUntilRunning("SELECT SLEEP(60)", socket: scratch.run + "/server/mysqld.sock")
        try terminal.press("C-c")
        try await terminal.waitFor("error: statement interrupted (Ctrl-C): it was stopped with KILL QUERY")
        try await terminal.waitForLine("snapctl main>")
        try terminal.type("SELECT 6 AS six;")
        try terminal.press("Enter")
        try await terminal.waitFor("|   6 |")

        try terminal.type("quit")
        try terminal.press("Enter")
        try await terminal.waitFor("EXITED 0")
        try await terminal.waitFor("TTY ")
        #expect(try terminal.screen().contains("TTY icanon"), "the terminal was left in raw mode")

        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.steps.map(\.label) == ["first", "second", "sql-3", "sql-4", "sql-5"])
        #expect(manifest.steps.map(\.outcome) == [.ok, .ok, .ok, .interrupted, .ok])
        #expect(!manifest.steps.contains { $0.sql?.contains { $0.contains("typed but cancelled") } == true })
        let lines = try String(contentsOfFile: history, encoding: .utf8).split(separator: "\n")
        #expect(lines.suffix(3) == ["SELECT SLEEP(60);", "SELECT 6 AS six;", "quit"])
        terminal.close()
        try RunChecks.expectFinalised(scratch.run, exitCode: 0, status: .completed, files: ReplProcess.runFiles)
    }

    @Test("history persists: Up recalls lines typed in an earlier REPL run")
    func historyAcrossRuns() async throws {
        let scratch = try Scratch("hist")
        defer { scratch.cleanup() }
        let history = scratch.path + "/history"
        let first = try TmuxTerminal(
            TmuxTerminal.replCommand(scratch: scratch, run: scratch.run, history: history),
            scratch: scratch
        )
        defer { first.close() }
        try await first.waitForLine("snapctl main>")
        try first.type("SELECT 41 + 1 AS sum;")
        try first.press("Enter")
        try await first.waitFor("|  42 |")
        try first.type("snaps")
        try first.press("Enter")
        try await first.waitFor("no snapshots yet")
        try first.press("C-d")
        try await first.waitFor("EXITED 0")
        first.close()

        let second = try TmuxTerminal(
            TmuxTerminal.replCommand(scratch: scratch, run: scratch.path + "/run2", history: history),
            scratch: scratch
        )
        defer { second.close() }
        try await second.waitForLine("snapctl main>")
        try second.press("Up")
        try await second.waitForLine("snapctl main> snaps")
        try second.press("Up")
        try await second.waitForLine("snapctl main> SELECT 41 + 1 AS sum;")
        try second.press("Enter")
        try await second.waitFor("(1 row)")
        #expect(try second.screen().components(separatedBy: "|  42 |").count == 2)
        try second.press("C-d")
        try await second.waitFor("EXITED 0")
        try await second.waitFor("TTY ")
        #expect(try second.screen().contains("TTY icanon"))
        second.close()
        try RunChecks.expectFinalised(
            scratch.path + "/run2",
            exitCode: 0,
            status: .completed,
            files: ReplProcess.runFiles
        )
        let manifest = try RunChecks.manifest(scratch.path + "/run2")
        #expect(manifest.steps.first?.sql == ["SELECT 41 + 1 AS sum"])
    }
}
