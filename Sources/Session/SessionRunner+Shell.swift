import Foundation
import Plan
import RunRecord
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension SessionRunner {
    /// Runs a `shell` step with `/bin/sh -c` in its own process group, output to
    /// `logs/step-NNNN-label.log`; `SNAPCTL_SOCKET`, `SNAPCTL_PID` and `SNAPCTL_RUN_DIR` tell it where the
    /// server is. A non-zero exit fails the step; the deadline and Ctrl-C tear the group down.
    func runShell(step: Plan.Step, command: String, deadline: ContinuousClock.Instant?) async -> Execution {
        // The step's number in the record (the same as in the plan for a session; an interactive run numbers
        // steps as they are done).
        let index = (manifest.steps.firstIndex { $0.label == step.label } ?? 0) + 1
        let logPath = directory.absolute(
            RunLayout.stepLog(index: index, fileSafeLabel: SnapshotLabel.fileSafe(step.label))
        )
        let output = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            return Execution(
                outcome: .failed,
                error: StepError(
                    message: "cannot open \(logPath): \(String(cString: strerror(errno)))",
                    expected: false
                )
            )
        }
        var environment = Environment.inherit.updating([
            "SNAPCTL_SOCKET": server?.socketPath ?? "",
            "SNAPCTL_PID": server.map { String($0.pid) } ?? "",
            "SNAPCTL_RUN_DIR": directory.path,
        ])
        if let custom = options.environment {
            var values: [Environment.Key: String] = [:]
            for (key, value) in custom { values[Environment.Key(stringLiteral: key)] = value }
            values["SNAPCTL_SOCKET"] = server?.socketPath ?? ""
            values["SNAPCTL_PID"] = server.map { String($0.pid) } ?? ""
            values["SNAPCTL_RUN_DIR"] = directory.path
            environment = .custom(values)
        }
        var platform = PlatformOptions()
        platform.processGroupID = 0
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
        ]
        let runDirectory = directory.path
        let child = Task { () throws -> TerminationStatus in
            try await Subprocess.run(
                .path("/bin/sh"),
                arguments: ["-c", command],
                environment: environment,
                workingDirectory: FilePath(runDirectory),
                platformOptions: platform,
                input: .none,
                output: .fileDescriptor(FileDescriptor(rawValue: output), closeAfterSpawningProcess: true),
                error: .combinedWithOutput
            ).terminationStatus
        }
        let fired = Flag()
        let watchdog: Task<Void, Never>? = deadline.map { deadline in
            Task {
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                fired.set()
                child.cancel()
            }
        }
        // A shell step may outlive the server (it may even be what kills it): stop waiting for the
        // command once the server is gone.
        let died = Flag()
        var deathWatch: Task<Void, Never>?
        if case .managed(let managed) = server {
            deathWatch = Task {
                // Ends at the latest when the server is shut down at finalisation; cancelled by then.
                _ = await managed.waitForExit()
                if Task.isCancelled { return }
                died.set()
                child.cancel()
            }
        }
        let result = await withTaskCancellationHandler {
            await child.result
        } onCancel: {
            child.cancel()
        }
        watchdog?.cancel()
        deathWatch?.cancel()
        if died.isSet {
            _ = await serverHasDied()
            return Execution(
                outcome: .serverDied,
                error: StepError(message: serverDeath ?? "the server died", statement: command, expected: false)
            )
        }
        if fired.isSet {
            return Execution(
                outcome: .timedOut,
                error: StepError(
                    message: "the step's timeout passed; the command was stopped",
                    statement: command,
                    expected: false
                )
            )
        }
        if Task.isCancelled { return Execution(outcome: .interrupted) }
        switch result {
        case .success(let status):
            let text = "\(status)"
            if case .exited(0) = status { return Execution(exitStatus: text) }
            return Execution(
                outcome: .failed,
                error: StepError(
                    message:
                        "the command ended with \(text); its output is in \(RunLayout.stepLog(index: index, fileSafeLabel: SnapshotLabel.fileSafe(step.label)))",
                    statement: command,
                    expected: false
                ),
                exitStatus: text
            )
        case .failure(let error):
            return Execution(
                outcome: .failed,
                error: StepError(message: "cannot run /bin/sh: \(error)", statement: command, expected: false)
            )
        }
    }
}
