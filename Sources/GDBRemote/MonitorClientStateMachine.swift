/// The monitor client as a pure state machine: events in, actions out, no I/O.
///
/// It drives Valgrind's gdbserver through a `vgdb` relay kept open for a whole run:
///
///     handshake:  qSupported -> QStartNoAckMode -> QPassSignals -> c          (the process runs)
///     command:    0x03 -> stop reply -> qRcmd,<hex> -> O packets... -> OK -> c
///     detach:     0x03 -> stop reply -> D -> OK                               (vgdb then exits)
///
/// The gdbserver freezes the whole process from the first byte it reads until `c` or `D`
/// (`server.c:server_main`), so a command is bracketed by the interrupt and the continue. The quirks it
/// absorbs: a stale `T05` left by an earlier `c` may precede any reply and is skipped; replies may arrive
/// with or without `+` acks (`noack_mode` survives a sloppy disconnect); a signal that is not passed stops
/// the process and is handed back with `C`; `-` from the peer means "send that again".
public struct MonitorClientStateMachine: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// Signals the gdbserver should deliver without stopping the process.
        public var passSignals: [GDBSignal]
        /// Ask for no-ack mode when offered (one byte less each way, and no wait for acks in the peer).
        public var noAckMode: Bool

        public init(passSignals: [GDBSignal] = GDBSignal.passedByDefault, noAckMode: Bool = true) {
            self.passSignals = passSignals
            self.noAckMode = noAckMode
        }
    }

    /// What the I/O layer must do.
    public enum Action: Hashable, Sendable {
        /// Write these bytes to the relay.
        case send([UInt8])
        /// The handshake is done and the process runs again.
        case connected(SupportedFeatures)
        /// Console output of the running command, as it arrives (never assume one line per packet).
        case output([UInt8])
        /// The command finished; all its output.
        case commandCompleted(output: [UInt8])
        /// The connection is detached; the process runs on and vgdb exits.
        case detached
        /// The current operation failed.
        case failed(MonitorFailure)
        /// The process ended while no operation was pending.
        case processEnded(ProcessEnd)
        /// A signal that is not passed stopped the process; it is delivered with `C` right away.
        case signalDelivered(GDBSignal)
        /// Something odd that did not stop the operation (a bad checksum, an unexpected packet).
        case warning(String)
    }

    enum Handshake: Hashable, Sendable {
        case supported
        case noAck
        case passSignals
    }

    enum State: Hashable, Sendable {
        case idle
        case handshaking(Handshake)
        case running
        case interrupting(command: String)
        case commanding(command: String, output: [UInt8], resumeSignal: GDBSignal?)
        case detachInterrupting
        case detaching
        case detached
        case ended(ProcessEnd)
        case closed
        case broken(MonitorFailure)
    }

    public let configuration: Configuration
    private(set) var state: State = .idle
    private var framer = PacketFramer()
    private var acking = true
    private var lastSent: [UInt8] = []
    /// What the peer told us in `qSupported`.
    public private(set) var features = SupportedFeatures()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// What the client is waiting for, so the I/O layer can arm the matching timeout; `nil` when idle.
    public var waitingFor: WaitPhase? {
        switch state {
        case .handshaking: return .handshake
        case .interrupting, .detachInterrupting: return .stopReply
        case .commanding: return .commandReply
        case .detaching: return .detach
        case .idle, .running, .detached, .ended, .closed, .broken: return nil
        }
    }

    /// True while a command can be started.
    public var isRunning: Bool { state == .running }

    /// Whether acks are still exchanged (before no-ack mode is agreed).
    public var isAckMode: Bool { acking }

    // MARK: Events

    /// Begin the handshake.
    public mutating func connectRequested() -> [Action] {
        guard state == .idle else { return [.failed(.notReady("already connected"))] }
        state = .handshaking(.supported)
        return [sendPacket(.querySupported)]
    }

    /// Run a monitor command (`snapshot F`, `v.info stats`, …).
    public mutating func commandRequested(_ command: String) -> [Action] {
        switch state {
        case .running:
            let limit = features.packetSize ?? 16383
            let length = Request.monitorPacketLength(command)
            guard length <= limit else { return [.failed(.commandTooLong(length: length, limit: limit))] }
            state = .interrupting(command: command)
            return [.send(Request.interrupt)]
        case .ended(let end): return [.failed(.processEnded(end))]
        case .broken(let failure): return [.failed(failure)]
        case .closed: return [.failed(.connectionClosed(nil))]
        default: return [.failed(.notReady("another operation is in progress (\(state))"))]
        }
    }

    /// End the session with `D` so the gdbserver resets its state and the process runs on.
    public mutating func detachRequested() -> [Action] {
        switch state {
        case .running:
            state = .detachInterrupting
            return [.send(Request.interrupt)]
        case .idle, .detached, .ended, .closed, .broken:
            state = .detached
            return [.detached]
        default:
            return [.failed(.notReady("cannot detach while another operation is in progress"))]
        }
    }

    /// No stop reply yet: send the interrupt again.
    ///
    /// An interrupt written right after `c` can be read by the gdbserver together with the `c`, before it
    /// returns to the guest; the byte is then counted as seen, vgdb's invoker has nothing left to deliver
    /// (`vgdb.c:invoke_gdbserver_in_valgrind` only invokes while `written_by_vgdb > seen_by_valgrind`) and
    /// no stop reply ever comes. A later `0x03` wakes it. Extra interrupts are harmless: `getpkt` discards
    /// bytes before `$`, and only one stop reply is sent per resume.
    public mutating func interruptRetryDue() -> [Action] {
        switch state {
        case .interrupting, .detachInterrupting: return [.send(Request.interrupt)]
        default: return []
        }
    }

    /// The armed timeout fired: the pending operation fails and the connection is unusable.
    public mutating func timeoutFired() -> [Action] {
        guard let phase = waitingFor else { return [] }
        let failure = MonitorFailure.timedOut(phase)
        state = .broken(failure)
        return [.failed(failure)]
    }

    /// The relay's output ended.
    public mutating func endOfStream() -> [Action] {
        let phase = waitingFor
        switch state {
        case .ended(let end):
            // Keep the exit status: later requests should say how the process ended, not just "closed".
            return phase == nil ? [] : [.failed(.processEnded(end))]
        case .detached, .closed, .broken:
            state = .closed
            return []
        default:
            state = .closed
            return phase == nil ? [] : [.failed(.connectionClosed(phase))]
        }
    }

    /// Bytes arrived from the relay.
    public mutating func bytesReceived(_ bytes: some Sequence<UInt8>) -> [Action] {
        framer.append(bytes)
        var actions: [Action] = []
        while true {
            let frame: Frame?
            do {
                frame = try framer.next()
            } catch {
                actions.append(.send(Array("-".utf8)))
                actions.append(.warning(error.description))
                continue
            }
            guard let frame else { break }
            switch frame {
            case .ack, .notification:
                continue
            case .nak:
                if !lastSent.isEmpty { actions.append(.send(lastSent)) }
            case .packet(let payload):
                if acking { actions.append(.send(Array("+".utf8))) }
                actions += packetReceived(Reply.parse(payload), raw: payload)
            case .badChecksum(let payload, let expected, let received):
                actions.append(.send(Array("-".utf8)))
                let note = "bad checksum from the gdbserver (expected \(hex(expected)), got \(hex(received)))"
                if acking {
                    // In ack mode the gdbserver's putpkt re-sends until it reads '+'.
                    actions.append(.warning(note + "; asked for it again"))
                } else {
                    // In no-ack mode nothing is re-sent; a pipe does not corrupt bytes, so the payload is
                    // the best there is.
                    actions.append(.warning(note + "; used as received (no-ack mode)"))
                    actions += packetReceived(Reply.parse(payload), raw: payload)
                }
            }
        }
        return actions
    }

    // MARK: Replies

    private mutating func packetReceived(_ reply: Reply, raw: [UInt8]) -> [Action] {
        switch reply {
        case .exited(let status): return ended(.exited(status: status))
        case .terminated(let signal): return ended(.killed(signal: signal))
        default: break
        }
        switch state {
        case .handshaking(let step):
            return handshakeReply(step, reply, raw: raw)
        case .interrupting(let command):
            guard case .stopped(let stop) = reply else { return unexpected(reply) }
            let resume: GDBSignal? = Self.interruptSignals.contains(stop.signal) ? nil : stop.signal
            state = .commanding(command: command, output: [], resumeSignal: resume)
            return [sendPacket(.monitor(command))]
        case .commanding(let command, var output, let resume):
            switch reply {
            case .output(let text):
                output += text
                state = .commanding(command: command, output: output, resumeSignal: resume)
                return [.output(text)]
            case .ok:
                return [.commandCompleted(output: output)] + resumeRunning(resume)
            case .empty:
                return [.failed(.unsupported("qRcmd"))] + resumeRunning(resume)
            case .error(let code):
                return [.failed(.remoteError("E\(hex(code))"))] + resumeRunning(resume)
            case .errorText(let text):
                return [.failed(.remoteError(text))] + resumeRunning(resume)
            case .stopped:
                return []  // a stale stop reply: skip it
            default:
                return unexpected(reply)
            }
        case .detachInterrupting:
            guard case .stopped = reply else { return unexpected(reply) }
            state = .detaching
            return [sendPacket(.detach)]
        case .detaching:
            switch reply {
            case .ok, .empty:
                state = .detached
                return [.detached]
            case .stopped:
                return []
            default:
                state = .detached
                return [.warning("detach answered with \(describe(raw))"), .detached]
            }
        case .running:
            if case .stopped(let stop) = reply {
                // A signal the gdbserver did not pass stopped the process: hand it back so it is not lost.
                if Self.interruptSignals.contains(stop.signal) { return [sendPacket(.continue)] }
                return [.signalDelivered(stop.signal), sendPacket(.continueWithSignal(stop.signal))]
            }
            return unexpected(reply)
        case .idle, .detached, .ended, .closed, .broken:
            return []
        }
    }

    private mutating func handshakeReply(_ step: Handshake, _ reply: Reply, raw: [UInt8]) -> [Action] {
        if case .stopped = reply { return [] }  // stale stop reply left by an earlier client
        switch step {
        case .supported:
            features = SupportedFeatures.parse(raw)
            if configuration.noAckMode && features.enabled.contains("QStartNoAckMode") {
                state = .handshaking(.noAck)
                return [sendPacket(.startNoAckMode)]
            }
            return startPassingSignals()
        case .noAck:
            var actions: [Action] = []
            if reply == .ok {
                acking = false
            } else {
                actions.append(.warning("QStartNoAckMode answered with \(describe(raw)); staying in ack mode"))
            }
            return actions + startPassingSignals()
        case .passSignals:
            var actions: [Action] = []
            if reply != .ok {
                actions.append(.warning("QPassSignals answered with \(describe(raw)); signals will stop the server"))
            }
            state = .running
            return actions + [sendPacket(.continue), .connected(features)]
        }
    }

    private mutating func startPassingSignals() -> [Action] {
        if configuration.passSignals.isEmpty {
            state = .running
            return [sendPacket(.continue), .connected(features)]
        }
        state = .handshaking(.passSignals)
        return [sendPacket(.passSignals(configuration.passSignals))]
    }

    private mutating func resumeRunning(_ signal: GDBSignal?) -> [Action] {
        state = .running
        if let signal { return [sendPacket(.continueWithSignal(signal))] }
        return [sendPacket(.continue)]
    }

    private mutating func ended(_ end: ProcessEnd) -> [Action] {
        let pending = waitingFor != nil
        state = .ended(end)
        return pending ? [.failed(.processEnded(end))] : [.processEnded(end)]
    }

    private func unexpected(_ reply: Reply) -> [Action] {
        [.warning("unexpected reply \(reply) in state \(state)")]
    }

    private mutating func sendPacket(_ request: Request) -> Action {
        lastSent = request.encoded
        return .send(lastSent)
    }

    /// Stop signals that mean "stopped because you asked": TRAP for Valgrind's interrupt, INT for GDB's.
    static let interruptSignals: Set<GDBSignal> = [.trap, .int]

    private func hex(_ byte: UInt8) -> String { String(decoding: Hex.byte(byte), as: UTF8.self) }

    private func describe(_ raw: [UInt8]) -> String {
        raw.isEmpty ? "the empty packet" : String(decoding: raw.prefix(80), as: UTF8.self).debugDescription
    }
}
