import ArgumentParser
import Foundation
import Plan
import REPL
import Session

#if canImport(Glibc)
import Glibc
#endif

/// `snapctl repl [PLAN]`: a prompt against a live server under Massif; snapshots, SQL and diffs as you go,
/// recorded in a run directory exactly as a session records it.
struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "A prompt against a live server under Massif: snap, run SQL, diff, top (see docs/repl.md).",
        discussion: """
            Starts the plan's server (or, without a plan, a throwaway MariaDB) under Massif; the plan's \
            steps run only when asked (step LABEL). Type help at the prompt for the commands; any other \
            line is SQL. Everything done is recorded in the run directory as snapctl session records it; \
            its path is the last line printed. On a terminal: line editing, history ($SNAPCTL_HISTFILE or \
            ~/.snapctl_history) and Tab completion; Ctrl-C clears the input or stops the running statement. \
            From a pipe: one command per line, no prompt.
            Exit status: 0 when the REPL ended (quit, exit, end of input); 1 bad usage or plan; 2 \
            environment not ready; 3 a plan step's budget was exceeded; 4 the server died or could not be \
            started; 130 SIGTERM or SIGHUP (the run directory is still finalised).
            """
    )

    @Argument(help: "A plan for the server, massif options, connections and steps (see docs/plan.md).")
    var plan: String?

    @Option(
        name: .customLong("out"),
        help: ArgumentHelp("The run directory itself (default runs/<plan name>-<UTC time>).", valueName: "dir")
    )
    var out: String?

    @Option(help: ArgumentHelp("Attach to a server already under valgrind --vgdb=yes.", valueName: "pid"))
    var attach: Int32?

    @Option(
        name: .customLong("vgdb-prefix"),
        help: ArgumentHelp("The attached server's --vgdb-prefix (default /tmp/vgdb-pipe).", valueName: "prefix")
    )
    var vgdbPrefix: String?

    @Option(help: ArgumentHelp("The attached server's socket.", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("The user for the attached server (default root).", valueName: "user"))
    var user: String?

    @Option(
        name: .customLong("password-env"),
        help: ArgumentHelp("The environment variable holding that user's password.", valueName: "name")
    )
    var passwordEnv: String?

    @Option(help: "How many rows of a result set are shown.")
    var rows = 20

    @Option(name: .customLong("search-path"), help: .hidden)
    var searchPath: String?

    /// Why the options do not go together; checked in `run` so that bad usage exits 1 (docs/architecture.md, "Exit codes").
    func usageProblem() -> String? {
        if plan != nil && attach != nil {
            return "give a plan or --attach PID, not both (a plan can attach with attach:)"
        }
        if attach == nil {
            let stray = [
                ("--vgdb-prefix", vgdbPrefix), ("--socket", socket), ("--user", user),
                ("--password-env", passwordEnv),
            ].filter { $0.1 != nil }.map(\.0)
            if !stray.isEmpty { return "\(stray.joined(separator: ", ")) go with --attach PID" }
        }
        if rows < 1 { return "--rows must be at least 1, got \(rows)" }
        return nil
    }

    func run() async throws {
        if let problem = usageProblem() {
            printError(problem + " (snapctl repl --help)")
            throw ExitStatus.usage
        }
        let loaded: Plan
        let text: String
        let source: String
        if let path = self.plan {
            (loaded, text) = try SessionCommand.loadPlan(path, requireSteps: false)
            source = path
        } else if let pid = attach {
            loaded = Plan(
                name: "repl",
                target: .attach(
                    Plan.Attach(
                        pid: pid,
                        vgdbPrefix: vgdbPrefix,
                        endpoint: socket.map { .socket(path: $0) },
                        user: user ?? Plan.Connection.defaultUser,
                        passwordEnv: passwordEnv
                    )
                )
            )
            text = (try? loaded.yaml()) ?? ""
            source = "(attach pid \(pid))"
        } else {
            loaded = Plan.embeddedDefault(name: "repl")
            text = (try? loaded.yaml()) ?? ""
            source = "(embedded default)"
        }
        let directory = out ?? Session.defaultRunDirectory(planName: loaded.name)
        do {
            _ = try Session.prepare(runDirectory: directory)
        } catch {
            printError(error.description)
            throw ExitStatus.usage
        }
        let options = SessionOptions(
            plan: loaded,
            planText: text,
            planSource: source,
            runDirectory: directory,
            toolVersion: SessionCommand.toolVersion,
            arguments: CommandLine.arguments,
            searchPath: searchPath
        )
        let configuration = ReplConfiguration(
            session: options,
            rows: rows,
            historyFile: ReplConfiguration.defaultHistoryFile(environment: ProcessInfo.processInfo.environment),
            terminal: isatty(0) != 0
        )
        let status = await Repl.run(configuration)
        if status != 0 { throw ExitCode(status) }
    }
}
