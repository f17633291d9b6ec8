import Foundation
import Massif
import MySQLServer
import Plan
import Report
import RunRecord
import Valgrind

/// The engine behind ``InteractiveSession``: the same start, steps, snapshots and finalisation as a
/// scripted run, driven one action at a time. Every action becomes a step of the manifest.
extension SessionRunner {
    /// Starts an interactive run: an empty step list (steps are recorded as they are done), then the
    /// server, exactly as ``run()`` starts it. Returns an ending when the start failed.
    func startInteractive() async -> Ending? {
        manifest.steps = []
        // Budgets of the plan's steps apply only to the steps actually run (see `runInteractive`).
        manifest.budgets.maxGrowth = [:]
        log.write("snapctl repl \(options.planSource) -> \(directory.path)")
        writePerformedPlan()
        persistManifest()
        emit(.runDirectory(directory.path))
        return await start()
    }

    /// Runs one step as a scripted run does and appends it to the record.
    func runInteractive(_ step: Plan.Step) async -> InteractiveStep {
        let index = manifest.steps.count + 1
        manifest.steps.append(Self.initialRecord(index: index, step: step, plan: plan))
        if let limit = step.maxGrowth { manifest.budgets.maxGrowth[step.label] = limit.bytes }
        let firstSnapshot = nextSnapshotID
        lastQueryResult = nil
        emit(.stepStarted(index: index, count: index, label: step.label))
        log.write("step \(index) '\(step.label)' (\(step.kind.key))")
        let outcome = await runStep(index - 1, step)
        log.write("step \(index) '\(step.label)': \(outcome.rawValue)")
        performedSteps.append(step)
        persistManifest()
        let record = manifest.steps[index - 1]
        let taken = manifest.snapshots.filter { $0.id >= firstSnapshot && $0.step == step.label }
        var top: Site?
        if let before = taken.first(where: { $0.phase == .before }),
            let after = taken.last(where: { $0.phase == .after }),
            let old = files[before.id]?.snapshots.last, let new = files[after.id]?.snapshots.last
        {
            top = RunReport.growingSites(before: old, after: new, limit: 1).first
        }
        let result = lastQueryResult
        lastQueryResult = nil
        return InteractiveStep(record: record, snapshots: taken, result: result, topSite: top)
    }

    /// Why `label` cannot name a new step, or `nil` when it can.
    ///
    /// Labels name snapshots (`diff before-x after-x`) and files, so a new label must not be taken by a
    /// step or a snapshot, nor make snapshot labels that are (`x` makes `before-x` and `after-x`).
    func labelProblem(_ label: String) -> String? {
        if label.isEmpty { return "a label cannot be empty" }
        let replaced = SnapshotLabel.replacedCharacters(in: label)
        if !replaced.isEmpty {
            let shown = replaced.map { "'\($0)'" }.joined(separator: ", ")
            return "label '\(label)' has characters a file name cannot have (\(shown)); "
                + "use letters, digits, '.', '_' and '-'"
        }
        let taken = takenLabels()
        for candidate in [label, "before-" + label, "after-" + label] where taken.contains(candidate) {
            return candidate == label
                ? "label '\(label)' is already used; choose another (`snaps` lists the labels)"
                : "label '\(label)' would make the snapshot label '\(candidate)', which is already used; choose another"
        }
        return nil
    }

    /// Every label a new step must not reuse: steps, snapshots, and the final snapshot's.
    func takenLabels() -> Set<String> {
        var taken: Set<String> = ["end", "final"]
        for step in manifest.steps { taken.insert(step.label) }
        for snapshot in manifest.snapshots { taken.insert(snapshot.label) }
        return taken
    }

    /// `base` when it is free, else `base-2`, `base-3`, ...
    func freeLabel(_ base: String) -> String {
        if labelProblem(base) == nil { return base }
        var number = 2
        while labelProblem("\(base)-\(number)") != nil { number += 1 }
        return "\(base)-\(number)"
    }

    /// Opens a connection and declares it, so later steps (and the saved plan) can name it.
    func declareConnection(_ connection: Plan.Connection) async -> InteractiveError? {
        if let serverDeath { return .serverGone(serverDeath) }
        if plan.connections.contains(where: { $0.name == connection.name }) {
            if connections[connection.name] != nil { return .connectionExists(name: connection.name) }
        }
        switch await openConnection(connection, name: connection.name) {
        case .success(let opened):
            connections[connection.name] = opened
            if let index = plan.connections.firstIndex(where: { $0.name == connection.name }) {
                options.plan.connections[index] = connection
            } else {
                options.plan.connections.append(connection)
            }
            log.write(
                "connection '\(connection.name)' as \(connection.user)"
                    + (connection.database.map { " on database \($0)" } ?? "")
            )
            persistManifest()
            return nil
        case .failure(let failure):
            if await serverHasDied(), let serverDeath { return .serverGone(serverDeath) }
            return .connectFailed(
                name: connection.name,
                message: failure.execution.error?.message ?? "the connection could not be opened"
            )
        }
    }

    /// Sends a raw monitor command through the kept-open relay and returns its output.
    func monitorCommand(_ command: String) async -> Result<String, InteractiveError> {
        if let serverDeath { return .failure(.serverGone(serverDeath)) }
        guard let monitor else { return .failure(.monitorFailed("the monitor session is closed")) }
        log.write("monitor \(command)")
        let outcome = await Task { () -> Result<String, ValgrindError> in
            do throws(ValgrindError) {
                return .success(try await monitor.unchecked(command))
            } catch {
                return .failure(error)
            }
        }.value
        switch outcome {
        case .success(let output):
            // A command such as `v.kill` may end the server.
            if await serverHasDied(), let serverDeath { return .failure(.serverGone(serverDeath)) }
            return .success(output)
        case .failure(let error):
            if case .processEnded = error {
                _ = await serverHasDied()
                if serverDeath == nil { serverDeath = error.description }
                return .failure(.serverGone(serverDeath ?? error.description))
            }
            return .failure(.monitorFailed(error.description))
        }
    }

    /// The counters the plan observes plus `Memory_used` and the process list.
    func interactiveCounters() async -> Result<ServerCounters, InteractiveError> {
        if let serverDeath { return .failure(.serverGone(serverDeath)) }
        var observables = plan.observe
        for wanted in [Plan.Observable.memoryUsed, .processlist] where !observables.contains(wanted) {
            observables.append(wanted)
        }
        guard let counters = await readCounters(observables) else {
            return .failure(.countersFailed("no observer connection"))
        }
        if counters.memoryUsed == nil && counters.processlist == nil, let problem = counters.error {
            if await serverHasDied(), let serverDeath { return .failure(.serverGone(serverDeath)) }
            return .failure(.countersFailed(problem))
        }
        return .success(counters)
    }

    /// The report of the run so far, as `report.txt` would say it now.
    func currentReport() -> RunReport {
        var trees: [Int: Massif.Snapshot] = [:]
        for (id, file) in files { trees[id] = file.snapshots.last }
        return RunReport.make(manifest: manifest, snapshots: trees)
    }

    /// The parsed snapshot of snapshot `id`.
    func snapshotTree(id: Int) -> Massif.Snapshot? { files[id]?.snapshots.last }

    /// What was done, as a plan `snapctl session` replays: the loaded plan's setup and connections (with
    /// those opened since), and the performed steps that can be replayed. A statement that failed with a
    /// server error is kept with `expect: {error: CODE}`; steps that were interrupted, timed out, failed
    /// otherwise or met a dead server are left out and named.
    func performedPlan() -> (plan: Plan, leftOut: [String]) {
        var plan = options.plan
        plan.steps = []
        var leftOut: [String] = []
        for (step, record) in zip(performedSteps, manifest.steps) {
            switch record.outcome {
            case .ok, .expectedError:
                plan.steps.append(step)
            case .failed:
                if case .sql = step.kind, step.expect == nil, let code = record.error?.code, code > 0 {
                    var expecting = step
                    expecting.expect = Plan.Expectation(error: .code(Int(code)))
                    plan.steps.append(expecting)
                } else {
                    leftOut.append(record.label)
                }
            case .timedOut, .serverDied, .interrupted, .notRun:
                leftOut.append(record.label)
            }
        }
        return (plan.inliningSQLFiles(), leftOut)
    }

    /// Writes what was done to `RUN/plan.yaml`, so that the run can be bundled and replayed.
    func writePerformedPlan() {
        do {
            let text = try performedPlan().plan.yaml()
            if let problem = directory.write(RunLayout.planFile, text: text) { warn(problem) }
        } catch {
            warn("\(RunLayout.planFile) could not be written: \(error)")
        }
    }

    /// Waits until the server dies and returns the report of its death; `nil` when the run finishes first.
    func watchForDeath() async -> String? {
        guard let server else { return nil }
        switch server {
        case .managed(let managed):
            // Also returns when the server is shut down at the end; `finishing` tells the two apart.
            _ = await managed.waitForExit()
        case .attached:
            while !Task.isCancelled && !finishing {
                if await server.hasDied() { break }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        if finishing || Task.isCancelled { return nil }
        _ = await serverHasDied()
        return serverDeath
    }

    /// How an interactive run ends: the final snapshot when the server is alive, and `plan.yaml` with
    /// what was done. Finalisation (``finalise(_:)``) follows.
    func finishInteractive(interrupted: Bool) async -> Ending {
        finishing = true
        var ending: Ending
        let died = await serverHasDied()
        if interrupted {
            ending = Ending(status: .interrupted, message: "interrupted (SIGTERM or SIGHUP)")
        } else if died || serverDeath != nil {
            ending = Ending(status: .serverDied, message: serverDeath ?? "the server died")
        } else {
            _ = await snapshot(step: "end", phase: .final, round: nil, kind: .detailed)
            ending = Ending(status: .completed)
            if let serverDeath { ending = Ending(status: .serverDied, message: serverDeath) }
        }
        writePerformedPlan()
        return ending
    }
}
