import ArgumentParser
import Foundation
import Massif
import MySQLServer
import Plan
import REPL
import Report
import RunRecord
import Session
import TextFormat

/// `snapctl session PLAN`: runs a plan under Massif and answers which step grew the heap, by how much
/// and in which code.
struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Run a plan of SQL steps against a server under Massif, with labelled snapshots per step.",
        discussion: """
            Prints a line per step (duration, heap before and after, delta, top growing site), writes the \
            run directory (manifest.json, snapshots/, timeline.massif, report.txt, report.json, report.html, \
            SHA256SUMS; see docs/manifest.md) \
            and prints its path as the last line.
            Exit status: 0 success; 1 bad plan or usage; 2 environment not ready; 3 a budget was exceeded \
            or a leak flagged; 4 a step failed or the server died; 130 interrupted (the run directory is \
            still finalised).
            """
    )

    /// The version recorded in manifests.
    static let toolVersion = SnapctlVersion.current

    @Argument(help: "The plan file (see docs/plan.md).")
    var plan: String

    @Option(
        name: .customLong("out"),
        help: ArgumentHelp("The run directory itself (default runs/<plan name>-<UTC time>).", valueName: "dir")
    )
    var out: String?

    @Flag(help: "Print only the run directory's path.")
    var quiet = false

    @Flag(help: "Print events as JSON lines; the last one carries the run directory and exit code.")
    var json = false

    @Option(name: .customLong("search-path"), help: .hidden)
    var searchPath: String?

    func validate() throws {
        if quiet && json { throw ValidationError("--quiet and --json cannot be used together") }
    }

    /// Loads the plan, resolving `sql_file:` relative to the plan file; errors are printed with their
    /// positions and end the command with exit 1.
    static func loadPlan(_ path: String, requireSteps: Bool = true) throws(ExitCode) -> (plan: Plan, text: String) {
        switch readPlan(path, requireSteps: requireSteps) {
        case .success(let loaded):
            for warning in loaded.warnings { printError(warning) }
            return (loaded.plan, loaded.text)
        case .failure(let failure):
            for message in failure.messages { printError(message) }
            throw ExitStatus.usage
        }
    }

    /// The plan and its warnings, or every problem as `FILE:LINE:COLUMN: message` lines.
    /// `requireSteps: false` for the REPL, which loads a plan for its setup.
    static func readPlan(
        _ path: String,
        requireSteps: Bool = true
    ) -> Result<(plan: Plan, text: String, warnings: [String]), PlanLoadFailure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            return .failure(PlanLoadFailure(messages: ["cannot read the plan file \(path): \(reason)"]))
        }
        let text = String(decoding: data, as: UTF8.self)
        let directory = (path as NSString).deletingLastPathComponent
        let options = Plan.LoadOptions(
            requireSteps: requireSteps,
            readFile: { relative in
                let full = relative.hasPrefix("/") || directory.isEmpty ? relative : directory + "/" + relative
                guard let contents = FileManager.default.contents(atPath: full) else {
                    throw PlanFileMissing(path: full)
                }
                return String(decoding: contents, as: UTF8.self)
            }
        )
        do {
            let (plan, warnings) = try Plan.loadWithWarnings(yaml: text, fileName: path, options: options)
            return .success((plan, text, warnings.map(\.description)))
        } catch {
            let count = error.errors.count
            return .failure(
                PlanLoadFailure(
                    messages: error.errors.map(\.description)
                        + ["the plan has \(count) problem\(count == 1 ? "" : "s"); no server was started"]
                )
            )
        }
    }

    func run() async throws {
        let (plan, text) = try Self.loadPlan(self.plan)
        let directory = out ?? Session.defaultRunDirectory(planName: plan.name)
        do {
            _ = try Session.prepare(runDirectory: directory)
        } catch {
            printError(error.description)
            throw ExitStatus.usage
        }
        let printer = SessionPrinter(mode: json ? .json : quiet ? .quiet : .text)
        let options = SessionOptions(
            plan: plan,
            planText: text,
            planSource: self.plan,
            runDirectory: directory,
            toolVersion: Self.toolVersion,
            arguments: CommandLine.arguments,
            searchPath: searchPath,
            events: { printer.handle($0) }
        )
        let (outcome, _) = try await Interrupts.run { () async -> Result<SessionResult, SessionError> in
            do throws(SessionError) {
                return .success(try await Session.run(options))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .failure(let error):
            printError(error.description)
            throw ExitStatus.usage
        case .success(let result):
            printer.finish(result)
            if result.exitCode != 0 { throw ExitCode(result.exitCode) }
        }
    }
}

/// Why a plan could not be loaded, one message per problem.
struct PlanLoadFailure: Error {
    var messages: [String]
}

/// A `sql_file:` that cannot be read; the plan loader turns it into a positioned error.
struct PlanFileMissing: Error, CustomStringConvertible {
    var path: String
    var description: String { "cannot read \(path): no such file" }
}

/// Renders session events on the terminal: a line per step, `--quiet` or JSON lines.
final class SessionPrinter: Sendable {
    enum Mode: Sendable { case text, quiet, json }
    let mode: Mode
    /// On a terminal, a running step is shown until its line replaces it.
    let interactive: Bool

    init(mode: Mode) {
        self.mode = mode
        self.interactive = isatty(1) != 0
    }

    func handle(_ event: SessionEvent) {
        switch mode {
        case .quiet: return
        case .json: emitJSON(event)
        case .text: emitText(event)
        }
    }

    private func emitText(_ event: SessionEvent) {
        switch event {
        case .runDirectory(let path): line("run directory \(path)")
        case .launch(.started(_, let pid)): line("server starting under Massif (pid \(pid))")
        case .launch(.allocator(let allocator, let option)):
            line("server allocator \(allocator.summary)" + (option.map { ": Massif gets \($0)" } ?? ""))
        case .launch(.waiting(let elapsed, let lastLogLine)):
            // On a terminal: a spinner, the time so far and the server's latest log line, on one line.
            guard interactive else { return }
            let frames = ["|", "/", "-", "\\"]
            let tenths = Int(elapsed.components.seconds * 10 + elapsed.components.attoseconds / 100_000_000_000_000_000)
            let seconds = Format.decimal(Double(tenths) / 10, digits: 1)
            let log = (lastLogLine ?? "").suffix(70)
            raw("\r\u{1B}[K\(frames[(tenths / 2) % frames.count]) starting server \(seconds) s  \(log)")
        case .launch: return
        case .serverReady(let pid, let version, let seconds):
            line("server \(version) ready (pid \(pid), \(Format.seconds(seconds)))")
        case .primaryReady(let primary):
            var text = "primary " + (primary.version.map { $0 + " " } ?? "") + "at \(primary.address)"
            if let pid = primary.pid {
                text += " (pid \(pid)" + (primary.startupSeconds.map { ", \(Format.seconds($0))" } ?? "") + ")"
            }
            line(text + (primary.mode == "managed" ? ", not profiled; the server profiled is its replica" : ""))
        case .stepStarted(let index, let count, let label):
            if interactive { raw("[\(index)/\(count)] \(label) running...") }
        case .snapshot: return
        case .stepFinished(let record, let before, let after, let peak, let top):
            var text = ReplFormat.stepLine(record, before: before, after: after, peak: peak, topSite: top)
            if let seconds = record.replica?.catchUpSeconds {
                text += "  (replica caught up in \(Format.seconds(seconds)))"
            }
            if let error = record.error, !record.outcome.isSuccess || error.expected {
                text += "\n      " + (error.code.map { "error \($0): " } ?? "") + error.message
            }
            line(text)
        case .stepLenses(let step):
            for text in RunReport.lensSummary(step) { line("      " + text) }
        case .warning(let message): printError("warning: " + message)
        case .finalising: return
        }
    }

    private func emitJSON(_ event: SessionEvent) {
        var object: [String: Any] = [:]
        switch event {
        case .runDirectory(let path): object = ["event": "run_directory", "path": path]
        case .launch: return
        case .serverReady(let pid, let version, let seconds):
            object = ["event": "server_ready", "pid": pid, "version": version, "elapsed_s": seconds]
        case .primaryReady(let primary):
            object = ["event": "primary_ready", "mode": primary.mode, "address": primary.address]
            if let pid = primary.pid { object["pid"] = pid }
        case .stepStarted(let index, let count, let label):
            object = ["event": "step_started", "index": index, "count": count, "label": label]
        case .snapshot(let record):
            object = [
                "event": "snapshot", "id": record.id, "step": record.step, "phase": record.phase.rawValue,
                "file": record.file, "total_B": record.totalBytes,
                "trigger_latency_ms": record.triggerLatencyMilliseconds,
            ]
        case .stepFinished(let record, let before, let after, let peak, let top):
            object = [
                "event": "step_finished", "index": record.index, "label": record.label,
                "outcome": record.outcome.rawValue,
            ]
            if let duration = record.duration { object["duration_s"] = duration }
            if let before { object["before_B"] = before }
            if let after { object["after_B"] = after }
            if let before, let after { object["delta_B"] = after - before }
            if let top { object["top_site"] = top.function }
            if let peak { object["during_peak_B"] = peak }
            if let seconds = record.replica?.catchUpSeconds { object["replica_catch_up_s"] = seconds }
            if let error = record.error { object["error"] = error.message }
        case .stepLenses(let step):
            object = ["event": "step_lenses", "index": step.index, "label": step.label]
            if let bytes = step.allocatedBytes { object["allocated_B"] = bytes }
            if let calls = step.allocationCalls { object["allocations"] = calls }
            if let growth = step.peakGrowth { object["peak_B"] = growth }
            if let site = step.allocated?.first { object["top_allocated_site"] = site.function }
            if let site = step.peak?.first { object["top_peak_site"] = site.function }
            if let note = step.peakNote { object["peak_note"] = note }
            if let findings = step.sizing { object["sizing"] = findings.map(\.sentence) }
        case .warning(let message): object = ["event": "warning", "message": message]
        case .finalising(let what): object = ["event": "finalising", "what": what]
        }
        jsonLine(object)
    }

    /// The last line: the run directory (JSON mode: an object carrying it and the exit code).
    func finish(_ result: SessionResult) {
        switch mode {
        case .json:
            jsonLine([
                "event": "finished", "run_directory": result.runDirectory, "exit_code": result.exitCode,
                "status": result.manifest.outcome.status.rawValue,
            ])
        case .text:
            if let message = result.manifest.outcome.message {
                line(result.manifest.outcome.status.rawValue + ": " + message)
            }
            line(result.runDirectory)
        case .quiet:
            line(result.runDirectory)
        }
    }

    private func jsonLine(_ object: [String: Any]) {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return }
        line(String(decoding: data, as: UTF8.self))
    }

    /// Text without a newline, to be replaced by the next line.
    private func raw(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buffer in _ = write(1, buffer.baseAddress, buffer.count) }
    }

    private func line(_ text: String) {
        // On a terminal, clear a "running" line first.
        let bytes = Array(((interactive ? "\r\u{1B}[K" : "") + text + "\n").utf8)
        bytes.withUnsafeBufferPointer { buffer in _ = write(1, buffer.baseAddress, buffer.count) }
    }
}
