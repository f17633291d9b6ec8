import GDBRemote
import Logging

/// A monitor connection to one process under Valgrind, kept open across commands.
///
/// One `vgdb` relay started with `--max-invoke-ms=1` serves the whole session: a snapshot then costs an
/// interrupt, a stop reply, a `qRcmd` and a `c` over pipes that are already open, instead of a new vgdb
/// process, a new FIFO handshake and the gdbserver's 100 ms sleep after each disconnect. Commands are
/// queued and run one at a time; every wait has a timeout whose error names the likely cause.
public actor MonitorSession {
    public struct Options: Sendable {
        /// vgdb to run: a name looked up on PATH, or a path.
        public var vgdbPath: String
        /// vgdb's `--max-invoke-ms`: how long it waits before forcing the gdbserver in with ptrace.
        /// 1 ms makes an idle server answer in about 4 ms; 0 disables ptrace (then only a busy server answers).
        public var maxInvokeMilliseconds: Int
        public var handshakeTimeout: Duration
        /// How long an interrupt may go unanswered; the usual cause of silence is refused ptrace.
        public var stopTimeout: Duration
        /// How long one command may run; a detailed snapshot of a large heap takes a while.
        public var commandTimeout: Duration
        public var detachTimeout: Duration
        public var passSignals: [GDBSignal]
        /// How long an interrupt may go unanswered before it is sent again (then twice as long each time,
        /// at most 500 ms). See ``firstInterruptRetry(maxInvokeMilliseconds:)``.
        public var interruptRetryDelay: Duration

        /// The first re-send of an unanswered interrupt: three invoker periods and 20 ms more.
        ///
        /// vgdb forces the gdbserver in only after one whole `--max-invoke-ms` sleep during which nothing
        /// was written to the process, so an interrupt is answered between one and two periods after it
        /// was written, plus the ptrace work. A byte written earlier than that restarts vgdb's wait: a
        /// re-send after 1 ms made every snapshot of an idle server about 1 ms slower. The re-send is only
        /// for the rare interrupt that the gdbserver read together with the previous `c` and so never
        /// answers (``MonitorClientStateMachine/interruptRetryDue()``).
        public static func firstInterruptRetry(maxInvokeMilliseconds: Int) -> Duration {
            .milliseconds(3 * max(0, min(maxInvokeMilliseconds, 60_000)) + 20)
        }

        public init(
            vgdbPath: String = "vgdb",
            maxInvokeMilliseconds: Int = 1,
            handshakeTimeout: Duration = .seconds(10),
            stopTimeout: Duration = .seconds(10),
            commandTimeout: Duration = .seconds(300),
            detachTimeout: Duration = .seconds(5),
            passSignals: [GDBSignal] = GDBSignal.passedByDefault,
            interruptRetryDelay: Duration? = nil
        ) {
            self.vgdbPath = vgdbPath
            self.maxInvokeMilliseconds = maxInvokeMilliseconds
            self.handshakeTimeout = handshakeTimeout
            self.stopTimeout = stopTimeout
            self.commandTimeout = commandTimeout
            self.detachTimeout = detachTimeout
            self.passSignals = passSignals
            self.interruptRetryDelay =
                interruptRetryDelay ?? Self.firstInterruptRetry(maxInvokeMilliseconds: maxInvokeMilliseconds)
        }
    }

    /// The process and prefix this session speaks to.
    public nonisolated let endpoint: VgdbEndpoint
    /// The vgdb command line used for the relay.
    public nonisolated let vgdbCommandLine: [String]
    private let options: Options
    private let relay: VgdbRelay
    private var machine: MonitorClientStateMachine
    private var pending: CheckedContinuation<[UInt8], any Error>?
    private var pendingCommand = ""
    private var timer: Task<Void, Never>?
    private var retry: Task<Void, Never>?
    private var armedPhase: WaitPhase?
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var logger: Logger

    /// How the process ended, if it ended while connected.
    public private(set) var processEnd: ProcessEnd?
    /// Oddities seen on the wire that did not fail an operation.
    public private(set) var warnings: [String] = []
    /// Features the gdbserver announced.
    public var features: SupportedFeatures { machine.features }

    private init(endpoint: VgdbEndpoint, options: Options, logger: Logger) {
        self.endpoint = endpoint
        self.options = options
        self.logger = logger
        self.relay = VgdbRelay(
            endpoint: endpoint,
            vgdbPath: options.vgdbPath,
            maxInvokeMilliseconds: options.maxInvokeMilliseconds
        )
        self.vgdbCommandLine = relay.commandLine
        self.machine = MonitorClientStateMachine(configuration: .init(passSignals: options.passSignals))
    }

    /// Connects to `pid` through the FIFOs under `prefix` (Valgrind's default prefix when `nil`).
    ///
    /// Checks first that the process exists and has FIFOs under the prefix, so that the common mistakes
    /// get a precise message instead of vgdb's.
    public static func connect(
        pid: Int32,
        prefix: String? = nil,
        options: Options = Options(),
        logger: Logger = Logger(label: "snapctl.vgdb")
    ) async throws(ValgrindError) -> MonitorSession {
        let endpoint = try VgdbEndpoint.locate(pid: pid, prefix: prefix ?? VgdbEndpoint.defaultPrefix)
        let session = MonitorSession(endpoint: endpoint, options: options, logger: logger)
        await session.startReading()
        do {
            _ = try await session.perform("handshake") { $0.connectRequested() }
        } catch {
            let mapped = await session.connectFailure(error)
            await session.close()
            throw mapped
        }
        return session
    }

    // MARK: Commands

    /// Runs a monitor command and returns its output; throws when the output reports a failure.
    public func raw(_ command: String) async throws(ValgrindError) -> String {
        let output = try await runCommand(command)
        if let reason = MonitorOutput.failure(in: output) {
            throw .commandFailed(command: command, output: output, reason: reason)
        }
        return output
    }

    /// Runs a monitor command and returns its output, whatever it says.
    public func unchecked(_ command: String) async throws(ValgrindError) -> String {
        try await runCommand(command)
    }

    /// A light snapshot (totals only) written to `path`.
    public func snapshot(to path: String) async throws(ValgrindError) {
        try await massif(.snapshot, path)
    }

    /// A snapshot with the heap tree written to `path`.
    public func detailedSnapshot(to path: String) async throws(ValgrindError) {
        try await massif(.detailedSnapshot, path)
    }

    /// Every snapshot Massif holds so far, written to `path`.
    public func allSnapshots(to path: String) async throws(ValgrindError) {
        try await massif(.allSnapshots, path)
    }

    /// An xtree memory report written to `path`.
    public func xtmemory(to path: String) async throws(ValgrindError) {
        try await massif(.xtmemory, path)
    }

    private func massif(_ command: MassifCommand, _ path: String) async throws(ValgrindError) {
        _ = try await raw(try command.command(path: path))
    }

    private func runCommand(_ command: String) async throws(ValgrindError) -> String {
        await acquire()
        defer { release() }
        do {
            let output = try await perform(command) { $0.commandRequested(command) }
            return String(decoding: output, as: UTF8.self)
        } catch {
            throw map(error)
        }
    }

    // MARK: Ending

    /// Detaches with `0x03`, `D` so the gdbserver resets its state and the process runs on, then waits
    /// for vgdb to exit. Safe to call more than once and after failures.
    public func close() async {
        await acquire()
        defer { release() }
        if machine.isRunning {
            do {
                _ = try await perform("detach") { $0.detachRequested() }
            } catch {
                logger.debug("detach failed: \(error)")
            }
        }
        timer?.cancel()
        retry?.cancel()
        await relay.terminate(after: options.detachTimeout)
    }

    /// Waits for the relay to end by itself (the process exited), at most `timeout`.
    public func waitForRelayExit(timeout: Duration) async -> Bool {
        await relay.exited(within: timeout)
    }

    // MARK: Driving the state machine

    private func startReading() {
        let relay = self.relay
        Task { [weak self] in
            for await chunk in relay.inbound {
                guard let self else { return }
                await self.received(chunk)
            }
            await self?.inboundEnded()
        }
    }

    private func received(_ chunk: [UInt8]) {
        apply(machine.bytesReceived(chunk))
    }

    private func inboundEnded() {
        apply(machine.endOfStream())
    }

    /// Feeds one event to the state machine and waits for the operation it starts to finish.
    private func perform(
        _ what: String,
        _ event: @escaping (inout MonitorClientStateMachine) -> [MonitorClientStateMachine.Action]
    ) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            pending = continuation
            pendingCommand = what
            apply(event(&machine))
        }
    }

    private func apply(_ actions: [MonitorClientStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                relay.send(bytes)
            case .connected:
                finish(.success([]))
            case .output:
                break
            case .commandCompleted(let output):
                finish(.success(output))
            case .detached:
                finish(.success([]))
            case .failed(let failure):
                finish(.failure(failure))
            case .processEnded(let end):
                processEnd = end
                logger.info("pid \(endpoint.pid) \(end)")
            case .signalDelivered(let signal):
                warnings.append("pid \(endpoint.pid) was stopped by \(signal); delivered it")
                logger.warning("pid \(endpoint.pid) was stopped by \(signal); delivered it")
            case .warning(let text):
                warnings.append(text)
                logger.warning("\(text)")
            }
        }
        if case .failed(.processEnded(let end)) = actions.last { processEnd = end }
        rearm()
    }

    private func finish(_ result: Result<[UInt8], MonitorFailure>) {
        guard let continuation = pending else { return }
        pending = nil
        continuation.resume(with: result.mapError { $0 as any Error })
    }

    /// Arms the timeout that matches what the state machine now waits for.
    private func rearm() {
        let phase = machine.waitingFor
        guard phase != armedPhase else { return }
        timer?.cancel()
        retry?.cancel()
        armedPhase = phase
        guard let phase else { return }
        if phase == .stopReply {
            let first = options.interruptRetryDelay
            retry = Task { [weak self] in
                var delay = first
                while true {
                    do { try await Task.sleep(for: delay) } catch { return }
                    guard let self, await self.retryInterrupt() else { return }
                    delay = min(delay * 2, .milliseconds(500))
                }
            }
        }
        let limit = timeout(for: phase)
        timer = Task { [weak self] in
            do { try await Task.sleep(for: limit) } catch { return }
            await self?.timerFired(phase)
        }
    }

    /// Re-sends the interrupt while a stop reply is awaited; false once it no longer is.
    private func retryInterrupt() -> Bool {
        guard machine.waitingFor == .stopReply else { return false }
        apply(machine.interruptRetryDue())
        return true
    }

    private func timerFired(_ phase: WaitPhase) {
        guard armedPhase == phase, machine.waitingFor == phase else { return }
        armedPhase = nil
        apply(machine.timeoutFired())
    }

    private func timeout(for phase: WaitPhase) -> Duration {
        switch phase {
        case .handshake: return options.handshakeTimeout
        case .stopReply: return options.stopTimeout
        case .commandReply: return options.commandTimeout
        case .detach: return options.detachTimeout
        }
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    // MARK: Errors

    private func connectFailure(_ error: any Error) async -> ValgrindError {
        // Let vgdb finish writing its complaint before it is quoted.
        _ = await relay.exited(within: .milliseconds(1500))
        let stderr = relay.stderrText
        if stderr.contains("Cannot acquire lock") {
            return .lockHeld(pid: endpoint.pid, detail: ValgrindError.tail(stderr, lines: 2))
        }
        if let failure = error as? MonitorFailure, case .connectionClosed = failure {
            return .vgdbFailed(pid: endpoint.pid, prefix: endpoint.prefix, stderr: stderr)
        }
        return map(error)
    }

    private func map(_ error: any Error) -> ValgrindError {
        if let error = error as? ValgrindError { return error }
        guard let failure = error as? MonitorFailure else {
            return .protocolFailure(pid: endpoint.pid, failure: .notReady("\(error)"))
        }
        switch failure {
        case .timedOut(let phase):
            let seconds =
                Double(timeout(for: phase).components.seconds)
                + Double(timeout(for: phase).components.attoseconds) / 1e18
            return .timedOut(
                pid: endpoint.pid,
                prefix: endpoint.prefix,
                phase: phase,
                seconds: seconds,
                stderr: relay.stderrText
            )
        case .processEnded(let end):
            return .processEnded(pid: endpoint.pid, end: end)
        case .connectionClosed(let phase):
            return .connectionClosed(pid: endpoint.pid, phase: phase, stderr: relay.stderrText)
        default:
            return .protocolFailure(pid: endpoint.pid, failure: failure)
        }
    }
}
