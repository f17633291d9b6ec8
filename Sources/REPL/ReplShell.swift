import Foundation
import Massif
import MySQLServer
import Plan
import Report
import RunRecord
import Session
import Synchronization
import Valgrind

#if canImport(Glibc)
import Glibc
#endif

/// Carries out what the user typed against the live session and prints the answer.
///
/// One item at a time; the REPL runs each in a task of its own, which Ctrl-C cancels (a running statement
/// is then stopped with KILL QUERY and the REPL goes on).
actor ReplShell {
    let session: InteractiveSession
    let output: ReplOutput
    let rows: Int
    let source: any LineSource
    /// Whether the REPL runs on a terminal.
    let terminal: Bool
    /// The connection SQL runs on; `nil` until `use` or `connect` chose one (the plan's first).
    var current: String?
    /// Whether the server's death has been reported (by a command or the watcher), so it is said once.
    var deathReported = false
    /// The last statement's label and lenses, for `peak`.
    var lastStatement: (label: String, lenses: StepReport?)?

    /// What to do after an item.
    enum Next: Sendable { case proceed, quit }

    init(session: InteractiveSession, output: ReplOutput, rows: Int, source: any LineSource, terminal: Bool) {
        self.session = session
        self.terminal = terminal
        self.output = output
        self.rows = rows
        self.source = source
    }

    /// The name shown in the prompt.
    var connectionName: String {
        get async {
            if let current { return current }
            return await session.connections.first?.name ?? "main"
        }
    }

    var connectionNames: [String] {
        get async { await session.connections.map(\.name) }
    }

    func handle(_ item: InputBuffer.Item) async -> Next {
        switch item {
        case .error(let error):
            output.error(error.message)
        case .sql(let statement):
            await runSQL(statement)
        case .command(let request):
            return await perform(request)
        }
        return .proceed
    }

    func perform(_ request: ReplRequest) async -> Next {
        switch request {
        case .quit:
            return .quit
        case .help(let topic):
            if let topic {
                if let text = ReplCommandSet.helpText(for: topic) {
                    output.result(text)
                } else {
                    var message = "no command '\(topic)'"
                    if let near = EditDistance.closest(to: topic, among: ReplCommandSet.names, within: 2) {
                        message += "; did you mean '\(near)'?"
                    }
                    output.error(message + " (help lists commands)")
                }
            } else {
                output.result(ReplCommandSet.helpText())
            }
        case .snap(let label, let light):
            await snap(label, light: light)
        case .diff(let before, let after, let top):
            await diff(before, after, top: top)
        case .top(let label, let count):
            await top(label, count: count)
        case .snaps:
            output.result(ReplFormat.snapshotList(await session.manifest.snapshots))
        case .counters:
            switch await session.counters() {
            case .success(let counters): output.result(ReplFormat.counters(counters))
            case .failure(let error): await report(error)
            }
        case .connect(let name, let user, let database):
            if let error = await session.connect(name: name, user: user, database: database) {
                await report(error)
            } else {
                current = name
                let declared = await session.connections.first { $0.name == name }
                var text = "connected '\(name)' as \(declared?.user ?? user ?? "root")"
                if let database = declared?.database { text += " on database \(database)" }
                output.result(text + "; SQL now runs on it")
            }
        case .use(let name):
            let names = await connectionNames
            if names.contains(name) {
                current = name
                output.result("SQL now runs on connection '\(name)'")
            } else {
                output.error(
                    InteractiveError.unknownConnection(name: name, known: names).description
                        + "; to change the database, end it like SQL: use \(name);"
                )
            }
        case .step(let label):
            await step(label)
        case .monitor(let command):
            switch await session.monitor(command) {
            case .success(let text):
                output.result(text.isEmpty ? "(no output)" : text)
                // The gdbserver says OK even to commands that failed; the text tells (MonitorOutput).
                if let reason = MonitorOutput.failure(in: text) { output.error("monitor \(command): \(reason)") }
            case .failure(let error): await report(error)
            }
        case .diffAllocated(let before, let after, let top):
            await diffAllocated(before, after, top: top)
        case .peak:
            peak()
        case .report:
            output.result(await session.report().text())
            if let death = await session.serverDeath {
                let reason = death.split(separator: "\n").first.map(String.init) ?? death
                output.notice("the server is gone (\(reason)); quit ends the run and writes the reports")
            }
        case .savePlan(let path):
            await savePlan(path)
        }
        return .proceed
    }

    // MARK: Commands

    func runSQL(_ statement: String) async {
        switch await session.execute(statement, connection: current) {
        case .failure(let error):
            await report(error)
        case .success(let done):
            let record = done.record
            lastStatement = (record.label, done.lenses)
            switch record.outcome {
            case .ok, .expectedError:
                guard let result = done.result else {
                    output.result("Query OK")
                    return
                }
                if result.columns.isEmpty {
                    output.result(ReplFormat.statementDone(result, seconds: record.duration))
                } else {
                    output.result(ResultTable(columns: result.columns, rows: result.rows).render(limit: rows))
                }
            case .interrupted:
                // On a terminal the line editor is off while a statement runs, so the terminal echoed ^C.
                if terminal { output.raw("\n") }
                output.error(
                    "statement interrupted (Ctrl-C): it was stopped with KILL QUERY through snapctl's observer "
                        + "connection; the REPL goes on"
                )
            case .serverDied:
                await reportDeath(record.error?.message)
            case .failed, .timedOut, .notRun:
                if let death = await session.serverDeath {
                    await reportDeath(death)
                } else if let error = record.error {
                    output.error(ReplFormat.sqlError(error))
                } else {
                    output.error("the statement failed")
                }
            }
        }
    }

    func snap(_ label: String, light: Bool) async {
        let before = await session.manifest.snapshots.last
        switch await session.snapshot(label: label, kind: light ? .light : .detailed) {
        case .failure(let error):
            await report(error)
        case .success(let done):
            if let snapshot = done.snapshots.last {
                output.result(ReplFormat.snapped(snapshot, previous: before))
            } else if let death = await session.serverDeath {
                await reportDeath(death)
            } else {
                output.error(
                    "the snapshot could not be taken" + (done.record.error.map { ": " + $0.message } ?? "")
                        + " (logs/snapctl.log has the details)"
                )
            }
        }
    }

    func diff(_ beforeLabel: String, _ afterLabel: String, top: Int) async {
        let snapshots = await session.manifest.snapshots
        let unknown = [beforeLabel, afterLabel].filter { SnapshotLookup.find($0, in: snapshots) == nil }
        guard unknown.isEmpty, let before = SnapshotLookup.find(beforeLabel, in: snapshots),
            let after = SnapshotLookup.find(afterLabel, in: snapshots)
        else {
            for name in unknown.reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
                output.error(SnapshotLookup.unknown(name, in: snapshots))
            }
            return
        }
        guard let old = await session.snapshotTree(id: before.id), let new = await session.snapshotTree(id: after.id)
        else {
            output.error("the snapshot files could not be read (logs/snapctl.log has the details)")
            return
        }
        let difference = SnapshotDiff(before: old, after: new)
        output.result(ReplFormat.diff(difference, before: before, after: after, top: top))
    }

    func diffAllocated(_ beforeLabel: String, _ afterLabel: String, top: Int) async {
        let snapshots = await session.manifest.snapshots
        guard let before = SnapshotLookup.find(beforeLabel, in: snapshots),
            let after = SnapshotLookup.find(afterLabel, in: snapshots)
        else {
            for name in [beforeLabel, afterLabel] where SnapshotLookup.find(name, in: snapshots) == nil {
                output.error(SnapshotLookup.unknown(name, in: snapshots))
            }
            return
        }
        guard let (report, steps) = await session.allocated(from: before, to: after) else {
            output.error(
                "no statement between \(before.label) and \(after.label) has the allocated lens; load a plan with "
                    + "allocations: true (snapctl repl PLAN.yaml) so that every statement dumps valgrind's allocation tree"
            )
            return
        }
        var limited = report
        limited.allocated = report.allocated.map { Array($0.prefix(top)) }
        var text =
            "allocated from \(before.label) to \(after.label) (\(steps) step\(steps == 1 ? "" : "s") with the lens):\n"
        text += RunReport.lensLines(limited)
        output.result(text.hasSuffix("\n") ? String(text.dropLast()) : text)
    }

    func peak() {
        guard let last = lastStatement else {
            output.error("no statement has run yet")
            return
        }
        guard let lenses = last.lenses else {
            output.error(
                "statement \(last.label) had no lenses; load a plan with allocations: true (snapctl repl PLAN.yaml) "
                    + "to see what each statement allocates"
            )
            return
        }
        var text = "\(last.label):\n" + RunReport.lensLines(lenses)
        if lenses.peakGrowth == nil && lenses.peakNote == nil {
            text += "    (a statement has no peak samples; what it allocated is the bound of what it held)\n"
        }
        output.result(String(text.dropLast()))
    }

    func top(_ label: String?, count: Int) async {
        let snapshots = await session.manifest.snapshots
        let record: SnapshotRecord
        if let label {
            guard let found = SnapshotLookup.find(label, in: snapshots) else {
                output.error(SnapshotLookup.unknown(label, in: snapshots))
                return
            }
            record = found
        } else {
            guard let latest = snapshots.last(where: { $0.kind == .detailed }) else {
                output.error("no detailed snapshot yet (snap LABEL takes one)")
                return
            }
            record = latest
        }
        guard let tree = await session.snapshotTree(id: record.id) else {
            output.error("the snapshot file \(record.file) could not be read")
            return
        }
        output.result(ReplFormat.top(tree, record: record, count: count))
    }

    func step(_ label: String) async {
        switch await session.runPlanStep(label) {
        case .failure(.noSuchStep(let label, let known)):
            var message = InteractiveError.noSuchStep(label: label, known: known).description
            if let near = EditDistance.closest(to: label, among: known, within: 2) {
                message += "; did you mean '\(near)'?"
            }
            output.error(message)
        case .failure(let error):
            await report(error)
        case .success(let done):
            if done.record.label != label {
                output.notice("step '\(label)' ran before; this run is labelled '\(done.record.label)'")
            }
            output.result(ReplFormat.stepLine(done.record, snapshots: done.snapshots, topSite: done.topSite))
            if let result = done.result, !result.columns.isEmpty, done.record.outcome.isSuccess {
                output.result(ResultTable(columns: result.columns, rows: result.rows).render(limit: rows))
            }
            switch done.record.outcome {
            case .ok:
                break
            case .expectedError:
                if let error = done.record.error { output.result("expected " + ReplFormat.sqlError(error)) }
            case .serverDied:
                await reportDeath(done.record.error?.message)
            case .interrupted:
                if terminal { output.raw("\n") }
                output.error("step '\(done.record.label)' interrupted (Ctrl-C); the REPL goes on")
            case .failed, .timedOut, .notRun:
                if let death = await session.serverDeath {
                    await reportDeath(death)
                } else if let error = done.record.error {
                    output.error(
                        "step '\(done.record.label)' \(done.record.outcome.rawValue): " + ReplFormat.sqlError(error)
                    )
                }
            }
        }
    }

    func savePlan(_ path: String) async {
        let (plan, leftOut) = await session.performedPlan()
        let text: String
        do {
            text = try plan.yaml()
        } catch {
            output.error("the plan could not be written as YAML: \(error)")
            return
        }
        if let problem = Self.write(text, to: path) {
            output.error("cannot write \(path): \(problem); choose another file")
            return
        }
        var message = "wrote \(path): \(plan.steps.count) step\(plan.steps.count == 1 ? "" : "s")"
        message += plan.steps.isEmpty ? " (snapctl session needs at least one; do something first)" : ""
        message += plan.steps.isEmpty ? "" : "; snapctl session \(path) replays them"
        output.result(message)
        if !leftOut.isEmpty {
            output.notice("left out (interrupted or failed without a server error): " + leftOut.joined(separator: ", "))
        }
    }

    /// Writes `text` to `path`; returns why it could not (`strerror`).
    static func write(_ text: String, to path: String) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            offset += written
        }
        return nil
    }

    // MARK: Errors and the server's death

    func report(_ error: InteractiveError) async {
        if case .serverGone(let death) = error {
            await reportDeath(death)
        } else {
            output.error(error.description)
        }
    }

    /// Says once that the server died and what can still be done; later refusals are short.
    func reportDeath(_ death: String?) async {
        let reason = await session.serverDeath ?? death ?? "the server died"
        if deathReported {
            output.error("the server is gone; `report` shows what was recorded, `quit` ends the run")
            return
        }
        deathReported = true
        output.error(Self.deathMessage(reason))
    }

    /// Called by the watcher when the server dies between commands.
    func serverDied(_ death: String) {
        guard !deathReported else { return }
        deathReported = true
        source.notify("error: " + Self.deathMessage(death))
    }

    static func deathMessage(_ death: String) -> String {
        "the server died: \(death)\n"
            + "  `report` shows what was recorded; `quit` (or Ctrl-D) ends the run and writes the reports (exit 4)"
    }

    /// Gives the line editor's completion what it needs now.
    func refreshCompletion(continuingSQL: Bool) async {
        let manifest = await session.manifest
        let context = Completion.Context(
            snapshotLabels: manifest.snapshots.map(\.label),
            connections: await connectionNames,
            planSteps: session.planSteps.map(\.label),
            continuingSQL: continuingSQL
        )
        ReadlineEditor.completionContext.withLock { $0 = context }
    }
}
