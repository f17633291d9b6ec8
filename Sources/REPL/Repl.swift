import Foundation
import MySQLServer
import Plan
import RunRecord
import Session
import Synchronization
import TextFormat

/// How to run the REPL.
public struct ReplConfiguration: Sendable {
    /// The plan (its server, massif options and connections; its steps run only when asked), the run
    /// directory and the rest, as for a session.
    public var session: SessionOptions
    /// How many rows of a result set are drawn.
    public var rows: Int
    /// The history file; `nil` for none. Used with the line editor only.
    public var historyFile: String?
    /// Whether standard input is a terminal: then the line editor with a prompt, history and completion;
    /// otherwise plain lines, no prompt and no escape codes.
    public var terminal: Bool

    public init(session: SessionOptions, rows: Int = 20, historyFile: String?, terminal: Bool) {
        self.session = session
        self.rows = rows
        self.historyFile = historyFile
        self.terminal = terminal
    }

    /// `$SNAPCTL_HISTFILE`, else `~/.snapctl_history`.
    public static func defaultHistoryFile(environment: [String: String]) -> String? {
        if let file = environment["SNAPCTL_HISTFILE"], !file.isEmpty { return file }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.snapctl_history"
    }
}

/// `snapctl repl`: a prompt against a live server under Massif.
public enum Repl {
    /// Starts the server, reads commands until `quit`, end of input or SIGTERM, and finalises the run
    /// directory as a session does.
    ///
    /// - Returns: the exit status (docs/architecture.md, "Exit codes"): 0 when the REPL ended normally, 3 when a
    ///   plan step's budget was exceeded, 4 when the server died, 130 for SIGTERM or SIGHUP, and the
    ///   session's start statuses (1, 2, 4) when the server could not be started.
    public static func run(_ configuration: ReplConfiguration) async -> Int32 {
        let output = ReplOutput()
        var options = configuration.session
        let terminal = configuration.terminal
        options.events = { event in
            switch event {
            case .runDirectory(let path): output.notice("run directory \(path)")
            case .launch(.started(_, let pid)): output.notice("server starting under Massif (pid \(pid))")
            case .serverReady(let pid, let version, let seconds):
                output.notice(
                    "server \(version) ready (pid \(pid), \(Format.seconds(seconds)))"
                        + (terminal ? "; help lists the commands, quit or Ctrl-D ends" : "")
                )
            case .warning(let message): output.notice("warning: " + message)
            default: break
            }
        }

        let router = InterruptRouter()
        let source: any LineSource
        let editor: ReadlineEditor?
        if terminal {
            let made = ReadlineEditor(historyFile: configuration.historyFile, output: output)
            editor = made
            source = made
        } else {
            editor = nil
            source = PlainLineSource(output: output)
        }
        let terminated = Mutex(false)
        let startTask = Mutex<Task<InteractiveSession.Start, any Error>?>(nil)
        let signals = ReplSignals(
            interrupt: {
                switch router.interrupt() {
                case .interruptedInput: source.interrupt()
                case .cancelledCommand: break
                case .nothing: startTask.withLock { $0?.cancel() }
                }
            },
            terminate: {
                terminated.withLock { $0 = true }
                _ = router.interrupt()
                startTask.withLock { $0?.cancel() }
                source.terminate()
            },
            resize: { editor?.resized() }
        )
        defer { signals.cancel() }

        let starting = Task { () throws -> InteractiveSession.Start in
            try await InteractiveSession.start(options)
        }
        startTask.withLock { $0 = starting }
        let start: InteractiveSession.Start
        do {
            start = try await starting.value
        } catch {
            output.error("\(error)")
            await source.close()
            return 1
        }
        startTask.withLock { $0 = nil }
        let session: InteractiveSession
        switch start {
        case .failed(let result):
            await source.close()
            finished(result, output: output)
            return result.exitCode
        case .ready(let ready):
            session = ready
        }

        let shell = ReplShell(
            session: session,
            output: output,
            rows: configuration.rows,
            source: source,
            terminal: terminal
        )
        await shell.refreshCompletion(continuingSQL: false)
        let deathWatch = Task {
            if let death = await session.waitForServerDeath() { await shell.serverDied(death) }
        }

        var buffer = InputBuffer()
        reading: while !terminated.withLock({ $0 }) {
            let prompt = buffer.isContinuing ? "    -> " : "snapctl \(await shell.connectionName)> "
            router.reading()
            let event = await source.read(prompt: prompt)
            router.idle()
            var items: [InputBuffer.Item] = []
            var ending = false
            switch event {
            case .terminated:
                break reading
            case .interrupted:
                buffer.clear()
                await shell.refreshCompletion(continuingSQL: false)
                continue reading
            case .end:
                items = buffer.finish()
                ending = true
            case .line(let text):
                items = buffer.accept(text, connections: await shell.connectionNames)
            }
            for item in items {
                if terminated.withLock({ $0 }) { break reading }
                let task = Task { await shell.handle(item) }
                router.running { task.cancel() }
                let next = await task.value
                router.idle()
                if next == .quit { break reading }
            }
            await shell.refreshCompletion(continuingSQL: buffer.isContinuing)
            if ending { break reading }
        }
        await source.close()
        deathWatch.cancel()
        let wasTerminated = terminated.withLock { $0 }
        let managed = await session.manifest.server?.mode == "managed"
        output.notice(
            "finishing: " + (wasTerminated ? "interrupted; " : "")
                + (managed ? "shutting the server down, writing reports" : "writing reports (the server runs on)")
        )
        let result = await session.finish(interrupted: wasTerminated)
        finished(result, output: output)
        return result.exitCode
    }

    /// The end of a run: its outcome when there is something to say, then the run directory's path as the
    /// last line of standard output (as `snapctl session` prints it).
    static func finished(_ result: SessionResult, output: ReplOutput) {
        let outcome = result.manifest.outcome
        if let message = outcome.message {
            // The first line: the rest (log tails of a dead server) was shown when it happened.
            let first = message.split(separator: "\n").first.map(String.init) ?? message
            output.notice("\(outcome.status.rawValue): \(first) (exit \(result.exitCode))")
        } else {
            output.notice("\(outcome.status.rawValue) (exit \(result.exitCode))")
        }
        output.result(result.runDirectory)
    }
}
