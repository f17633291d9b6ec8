import Foundation
import Plan
import RunRecord
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A `shell` step: `/bin/sh -c` in its own process group, output to `logs/step-NNNN-label.log`;
/// `SNAPCTL_SOCKET`, `SNAPCTL_PID` and `SNAPCTL_RUN_DIR` tell it where the server is. A non-zero exit
/// fails the step; the deadline and Ctrl-C tear the group down, and so does the server's death (a shell
/// step may be what kills it).
struct ShellStep: Sendable {
    let command: String
    /// The step's number in the record (as in the plan for a session; an interactive run numbers steps
    /// as they are done).
    let index: Int
    let label: String
    let server: any ProfiledServer
    let watch: ServerWatch
    let runDirectory: RunDirectory
    let environment: [String: String]?

    func run(deadline: ContinuousClock.Instant?) async -> Execution {
        let relativeLog = RunLayout.stepLog(index: index, fileSafeLabel: SnapshotLabel.fileSafe(label))
        let logPath = runDirectory.absolute(relativeLog)
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
        let located: [String: String] = [
            "SNAPCTL_SOCKET": server.socketPath,
            "SNAPCTL_PID": String(server.pid),
            "SNAPCTL_RUN_DIR": runDirectory.path,
        ]
        var processEnvironment = Environment.inherit.updating(
            Dictionary(uniqueKeysWithValues: located.map { (Environment.Key(stringLiteral: $0.key), $0.value) })
        )
        if let custom = environment {
            var values: [Environment.Key: String] = [:]
            for (key, value) in custom.merging(located, uniquingKeysWith: { $1 }) {
                values[Environment.Key(stringLiteral: key)] = value
            }
            processEnvironment = .custom(values)
        }
        var platform = PlatformOptions()
        platform.processGroupID = 0
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
        ]
        let (command, workingDirectory) = (self.command, runDirectory.path)
        let child = Task { () throws -> TerminationStatus in
            try await Subprocess.run(
                .path("/bin/sh"),
                arguments: ["-c", command],
                environment: processEnvironment,
                workingDirectory: FilePath(workingDirectory),
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
        // Stop waiting for the command once the server is gone.
        let died = Flag()
        let server = self.server
        let deathWatch = Task {
            await server.waitForExit()
            if Task.isCancelled { return }
            died.set()
            child.cancel()
        }
        let result = await withTaskCancellationHandler {
            await child.result
        } onCancel: {
            child.cancel()
        }
        watchdog?.cancel()
        deathWatch.cancel()
        if died.isSet {
            _ = await watch.check()
            return Execution(
                outcome: .serverDied,
                error: StepError(message: watch.death ?? "the server died", statement: command, expected: false)
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
                    message: "the command ended with \(text); its output is in \(relativeLog)",
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
