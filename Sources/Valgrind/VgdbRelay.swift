import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One `vgdb` process in relay mode, kept open for a whole run: bytes written go to the gdbserver,
/// bytes read come from it.
///
/// vgdb copies bytes blindly in both directions (`vgdb.c:gdb_relay`), so all protocol logic stays in
/// `MonitorClientStateMachine`. It runs in its own process group, so a Ctrl-C at the terminal does not
/// reach it; it ends when its standard input closes ("read 0 bytes from gdb => assume exit"), which is
/// also what happens if snapctl itself is killed: the gdbserver then resets and the process runs on.
/// It is never sent SIGKILL first: killing vgdb during a ptrace invoke trips a Valgrind assertion
/// ("vgdb did not took control. Did you kill vgdb ?").
final class VgdbRelay: Sendable {
    /// State shared with the task that runs vgdb.
    private final class Shared: Sendable {
        let stderr = Mutex("")
        let pid = Mutex<Int32?>(nil)
    }

    /// Chunks read from vgdb's standard output; finishes when vgdb exits.
    let inbound: AsyncStream<[UInt8]>
    /// The vgdb command line, for messages.
    let commandLine: [String]
    private let outbound: AsyncStream<[UInt8]>.Continuation
    private let shared: Shared
    private let run: Task<TerminationStatus?, Never>

    /// Starts `vgdb --pid=N --vgdb-prefix=P --max-invoke-ms=M` with the environment that matches the FIFOs.
    init(endpoint: VgdbEndpoint, vgdbPath: String, maxInvokeMilliseconds: Int) {
        signal(SIGPIPE, SIG_IGN)
        let arguments = [
            "--pid=\(endpoint.pid)", "--vgdb-prefix=\(endpoint.prefix)", "--max-invoke-ms=\(maxInvokeMilliseconds)",
        ]
        // A bare name is looked up here, with stat: the spawner would otherwise fork once per PATH
        // directory until an exec succeeds, a few milliseconds of every connect on a long PATH.
        let vgdbPath =
            vgdbPath.contains("/")
            ? vgdbPath
            : ValgrindInstallation.findExecutable(named: vgdbPath, in: ValgrindInstallation.searchPath()) ?? vgdbPath
        commandLine = [vgdbPath] + arguments
        let (inbound, inboundContinuation) = AsyncStream.makeStream(of: [UInt8].self)
        let (outboundStream, outbound) = AsyncStream.makeStream(of: [UInt8].self)
        self.inbound = inbound
        self.outbound = outbound
        let shared = Shared()
        self.shared = shared

        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.send(signal: .terminate, allowedDurationToNextStep: .seconds(2))]
        var environment: [Environment.Key: String?] = [:]
        for (key, value) in endpoint.environment { environment[Environment.Key(stringLiteral: key)] = value }
        let executable: Executable = vgdbPath.contains("/") ? .path(FilePath(vgdbPath)) : .name(vgdbPath)

        run = Task {
            defer {
                inboundContinuation.finish()
                outbound.finish()
            }
            do {
                let result = try await Subprocess.run(
                    executable,
                    arguments: Arguments(arguments),
                    environment: .inherit.updating(environment),
                    platformOptions: options,
                    input: .inputWriter,
                    output: .sequence,
                    error: .sequence
                ) { execution in
                    shared.pid.withLock { $0 = execution.processIdentifier.value }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            let writer = execution.standardInputWriter
                            for await chunk in outboundStream {
                                do { _ = try await writer.write(chunk) } catch { break }
                            }
                            try? await writer.finish()
                        }
                        group.addTask {
                            for try await buffer in execution.standardOutput {
                                let bytes = buffer.withUnsafeBytes { Array($0) }
                                if VgdbRelay.tracing { VgdbRelay.trace("<-", bytes) }
                                inboundContinuation.yield(bytes)
                            }
                            inboundContinuation.finish()
                            outbound.finish()
                        }
                        group.addTask {
                            for try await buffer in execution.standardError {
                                let text = buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                                shared.stderr.withLock { log in
                                    log += text
                                    if log.utf8.count > 16384 { log = String(log.suffix(8192)) }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                return result.terminationStatus
            } catch {
                shared.stderr.withLock { $0 += "snapctl: could not run \(executable): \(error)\n" }
                return nil
            }
        }
    }

    /// Queues bytes for vgdb's standard input.
    func send(_ bytes: [UInt8]) {
        if Self.tracing { Self.trace("->", bytes) }
        outbound.yield(bytes)
    }

    /// `SNAPCTL_TRACE_RSP=1` prints every byte exchanged with vgdb on standard error.
    static let tracing = getenv("SNAPCTL_TRACE_RSP").map { String(cString: $0) == "1" } ?? false

    static func trace(_ direction: String, _ bytes: [UInt8]) {
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7f {
                text.append(Character(Unicode.Scalar(byte)))
            } else {
                text += "\\x" + String(byte, radix: 16)
            }
        }
        let line = "rsp \(direction) \(text)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    /// Closes vgdb's standard input: vgdb then closes its FIFOs and exits 0.
    func closeInput() {
        outbound.finish()
    }

    /// vgdb's process id once it runs.
    var processID: Int32? { shared.pid.withLock { $0 } }

    /// What vgdb printed on standard error, minus its routine "relaying data" banner.
    var stderrText: String {
        let text = shared.stderr.withLock { $0 }
        return text.split(separator: "\n").filter { !$0.hasPrefix("relaying data between gdb and process") }
            .joined(separator: "\n")
    }

    /// Waits for vgdb to exit; `nil` if it could not be started.
    func waitForExit() async -> TerminationStatus? {
        await run.value
    }

    /// Waits at most `timeout` for vgdb to exit, then asks it to stop (SIGTERM, which vgdb handles as a
    /// shutdown) and finally kills its group.
    func terminate(after timeout: Duration) async {
        closeInput()
        if await exited(within: timeout) { return }
        if let pid = processID { kill(-pid, SIGTERM) }
        if await exited(within: .seconds(2)) { return }
        if let pid = processID { kill(-pid, SIGKILL) }
        _ = await run.value
    }

    /// Whether vgdb exits within `timeout`.
    func exited(within timeout: Duration) async -> Bool {
        let run = self.run
        return await OneShot.race(
            {
                _ = await run.value
                return true
            },
            {
                try? await Task.sleep(for: timeout)
                return false
            }
        )
    }
}

/// Resumes a continuation with whichever of two operations finishes first. Unlike a task group it does
/// not wait for the loser, which matters when the loser awaits something that ignores cancellation.
final class OneShot<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, Never>?>(nil)

    private func resume(_ value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }

    static func race(
        _ first: @escaping @Sendable () async -> Value,
        _ second: @escaping @Sendable () async -> Value
    ) async -> Value {
        let shot = OneShot<Value>()
        return await withCheckedContinuation { continuation in
            shot.continuation.withLock { $0 = continuation }
            Task { shot.resume(await first()) }
            Task { shot.resume(await second()) }
        }
    }
}
