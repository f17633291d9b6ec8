import Testing

@testable import GDBRemote

/// A tiny peer script: the bytes the gdbserver would send, and a readable form of what the machine does.
extension MonitorClientStateMachine.Action {
    var text: String {
        switch self {
        case .send(let bytes): return "send " + String(decoding: bytes, as: UTF8.self)
        case .connected(let f): return "connected \(f.packetSize ?? -1)"
        case .output(let o): return "output " + String(decoding: o, as: UTF8.self)
        case .commandCompleted(let o): return "completed " + String(decoding: o, as: UTF8.self)
        case .detached: return "detached"
        case .failed(let failure): return "failed \(failure)"
        case .processEnded(let end): return "ended \(end)"
        case .signalDelivered(let s): return "delivered \(s)"
        case .warning(let w): return "warning \(w)"
        }
    }
}

func texts(_ actions: [MonitorClientStateMachine.Action]) -> [String] { actions.map(\.text) }

let qSupportedReply = wire("PacketSize=3fff;QStartNoAckMode+;QPassSignals+;QCatchSyscalls+")
let passSignals = String(decoding: Request.passSignals(GDBSignal.passedByDefault).encoded, as: UTF8.self)
let stop = wire("T0506:0*,;07:10e0ff1f0*\";10:20c0ab04;thread:7993;")

/// A machine that has completed the handshake and runs the process.
func connectedMachine() -> MonitorClientStateMachine {
    var m = MonitorClientStateMachine()
    _ = m.connectRequested()
    _ = m.bytesReceived(bytes("+" + qSupportedReply))
    _ = m.bytesReceived(bytes("+" + wire("OK")))
    _ = m.bytesReceived(bytes(wire("OK")))
    return m
}

@Suite("MonitorClientStateMachine")
struct MonitorClientStateMachineTests {
    @Test func handshakeNegotiatesNoAckAndPassesSignals() {
        var m = MonitorClientStateMachine()
        #expect(texts(m.connectRequested()) == ["send $qSupported#37"])
        #expect(m.waitingFor == .handshake)
        // Ack mode: the peer acks our packet, we ack its reply.
        #expect(texts(m.bytesReceived(bytes("+" + qSupportedReply))) == ["send +", "send $QStartNoAckMode#b0"])
        #expect(m.isAckMode)
        #expect(texts(m.bytesReceived(bytes("+" + wire("OK")))) == ["send +", "send " + passSignals])
        #expect(!m.isAckMode)
        #expect(texts(m.bytesReceived(bytes(wire("OK")))) == ["send $c#63", "connected 16383"])
        #expect(m.isRunning)
        #expect(m.waitingFor == nil)
    }

    @Test func handshakeSkipsStaleStopReplyLeftBySloppyClient() {
        var m = MonitorClientStateMachine()
        _ = m.connectRequested()
        // A previous client sent `c` and went away: a T05 arrives first, without '+' (still no-ack).
        #expect(texts(m.bytesReceived(bytes(stop))) == ["send +"])
        #expect(texts(m.bytesReceived(bytes(qSupportedReply))) == ["send +", "send $QStartNoAckMode#b0"])
    }

    @Test func handshakeWithoutNoAckSupportStaysInAckMode() {
        var m = MonitorClientStateMachine()
        _ = m.connectRequested()
        #expect(texts(m.bytesReceived(bytes("+" + wire("PacketSize=3fff")))) == ["send +", "send " + passSignals])
        #expect(texts(m.bytesReceived(bytes("+" + wire("OK")))) == ["send +", "send $c#63", "connected 16383"])
        #expect(m.isAckMode)
    }

    @Test func commandCycleCollectsOutputAcrossPackets() {
        var m = connectedMachine()
        #expect(texts(m.commandRequested("help")) == ["send \u{03}"])
        #expect(m.waitingFor == .stopReply)
        #expect(texts(m.bytesReceived(bytes(stop))) == ["send $qRcmd,68656c70#fc"])
        #expect(m.waitingFor == .commandReply)
        // Output split mid-line across two packets; a stale stop reply in between is skipped.
        let first = wire("O" + Hex.encode("general valgrind monitor co"))
        let second = wire("O" + Hex.encode("mmands:\n"))
        #expect(texts(m.bytesReceived(bytes(first + stop))) == ["output general valgrind monitor co"])
        #expect(
            texts(m.bytesReceived(bytes(second + wire("OK"))))
                == ["output mmands:\n", "completed general valgrind monitor commands:\n", "send $c#63"]
        )
        #expect(m.isRunning)
    }

    @Test func commandsAreRefusedWhileAnotherRuns() {
        var m = connectedMachine()
        _ = m.commandRequested("snapshot /tmp/a")
        let actions = texts(m.commandRequested("snapshot /tmp/b"))
        #expect(actions.count == 1)
        #expect(actions[0].hasPrefix("failed another operation is in progress"))
    }

    @Test func commandLongerThanPacketSizeIsRefusedBeforeSending() {
        var m = connectedMachine()
        let long = "snapshot /" + String(repeating: "a", count: 9000)
        #expect(
            texts(m.commandRequested(long)) == [
                "failed the command needs a 18030-byte packet; the gdbserver accepts at most 16383"
            ]
        )
        #expect(m.isRunning)
        let fits = "snapshot /" + String(repeating: "a", count: 8000)
        #expect(texts(m.commandRequested(fits)) == ["send \u{03}"])
    }

    @Test func nakMakesTheLastPacketGoAgain() {
        var m = connectedMachine()
        _ = m.commandRequested("help")
        _ = m.bytesReceived(bytes(stop))
        let qRcmd = "send " + String(decoding: Request.monitor("help").encoded, as: UTF8.self)
        #expect(texts(m.bytesReceived(bytes("-"))) == [qRcmd])
    }

    @Test func badChecksumInAckModeIsNakedAndTheResendIsUsed() {
        var m = MonitorClientStateMachine()
        _ = m.connectRequested()
        let corrupted = "$PacketSize=3fff;QStartNoAckMode+#00"
        let actions = texts(m.bytesReceived(bytes(corrupted)))
        #expect(actions.first == "send -")
        #expect(actions.count == 2 && actions[1].hasPrefix("warning bad checksum"))
        #expect(m.waitingFor == .handshake)
        // The gdbserver's putpkt re-sends until it reads '+'.
        #expect(texts(m.bytesReceived(bytes(qSupportedReply))) == ["send +", "send $QStartNoAckMode#b0"])
    }

    @Test func badChecksumInNoAckModeIsNakedAndUsed() {
        var m = connectedMachine()
        _ = m.commandRequested("help")
        _ = m.bytesReceived(bytes(stop))
        let actions = texts(m.bytesReceived(bytes("$OK#00")))
        #expect(actions[0] == "send -")
        #expect(actions[1].hasPrefix("warning bad checksum"))
        #expect(Array(actions.dropFirst(2)) == ["completed ", "send $c#63"])
    }

    @Test func garbageIsNakedAndSkipped() {
        var m = connectedMachine()
        _ = m.commandRequested("help")
        let actions = texts(m.bytesReceived(bytes("$T05*#zz")))
        #expect(actions.first == "send -")
        #expect(m.waitingFor == .stopReply)
    }

    @Test func timeoutWaitingForStopReplyBreaksTheConnection() {
        var m = connectedMachine()
        _ = m.commandRequested("snapshot /tmp/x")
        #expect(texts(m.timeoutFired()) == ["failed no stop reply in time"])
        #expect(texts(m.commandRequested("snapshot /tmp/y")) == ["failed no stop reply in time"])
        #expect(texts(m.timeoutFired()) == [])
    }

    @Test func processExitWhileRunningIsReported() {
        var m = connectedMachine()
        #expect(texts(m.bytesReceived(bytes(wire("W00")))) == ["ended exited with status 0"])
        #expect(texts(m.commandRequested("snapshot /tmp/x")) == ["failed the process exited with status 0"])
        #expect(texts(m.endOfStream()) == [])
        #expect(texts(m.commandRequested("snapshot /tmp/x")) == ["failed the process exited with status 0"])
    }

    @Test func processKilledDuringACommandFailsIt() {
        var m = connectedMachine()
        _ = m.commandRequested("v.wait 5000")
        #expect(texts(m.bytesReceived(bytes(wire("X09")))) == ["failed the process was terminated by SIGKILL"])
    }

    @Test func endOfStreamMidCommandFailsIt() {
        var m = connectedMachine()
        _ = m.commandRequested("v.wait 5000")
        _ = m.bytesReceived(bytes(stop))
        #expect(texts(m.endOfStream()) == ["failed the connection closed while waiting for the command reply"])
        #expect(texts(m.commandRequested("help")) == ["failed the connection closed"])
    }

    @Test func endOfStreamDuringHandshakeFailsIt() {
        var m = MonitorClientStateMachine()
        _ = m.connectRequested()
        #expect(texts(m.endOfStream()) == ["failed the connection closed while waiting for the handshake"])
    }

    @Test func unpassedSignalIsDeliveredWithC() {
        var m = connectedMachine()
        #expect(texts(m.bytesReceived(bytes(wire("T0b06:00;thread:1;")))) == ["delivered SIGSEGV", "send $C0b#d5"])
        #expect(m.isRunning)
    }

    @Test func signalThatStoppedTheProcessBeforeTheInterruptIsDeliveredAfterTheCommand() {
        var m = connectedMachine()
        _ = m.commandRequested("snapshot /tmp/x")
        _ = m.bytesReceived(bytes(wire("T0b06:00;thread:1;")))
        #expect(texts(m.bytesReceived(bytes(wire("OK")))) == ["completed ", "send $C0b#d5"])
    }

    @Test func remoteErrorsFailTheCommandButResume() {
        var m = connectedMachine()
        _ = m.commandRequested("x")
        _ = m.bytesReceived(bytes(stop))
        #expect(
            texts(m.bytesReceived(bytes(wire("E01")))) == [
                "failed the gdbserver answered with an error: E01", "send $c#63",
            ]
        )
        _ = m.commandRequested("x")
        _ = m.bytesReceived(bytes(stop))
        #expect(
            texts(m.bytesReceived(bytes(wire("")))) == ["failed qRcmd is not supported by the gdbserver", "send $c#63"]
        )
        #expect(m.isRunning)
    }

    @Test func detachInterruptsThenDetaches() {
        var m = connectedMachine()
        #expect(texts(m.detachRequested()) == ["send \u{03}"])
        #expect(texts(m.bytesReceived(bytes(stop))) == ["send $D#44"])
        #expect(m.waitingFor == .detach)
        #expect(texts(m.bytesReceived(bytes(wire("OK")))) == ["detached"])
        #expect(texts(m.endOfStream()) == [])
    }

    @Test func detachAfterTheProcessEndedNeedsNoPackets() {
        var m = connectedMachine()
        _ = m.bytesReceived(bytes(wire("W00")))
        #expect(texts(m.detachRequested()) == ["detached"])
    }
}

@Suite("Interrupt retries")
struct InterruptRetryTests {
    @Test func retryResendsTheInterruptOnlyWhileAStopReplyIsAwaited() {
        var m = connectedMachine()
        #expect(texts(m.interruptRetryDue()) == [])
        _ = m.commandRequested("help")
        #expect(texts(m.interruptRetryDue()) == ["send \u{03}"])
        _ = m.bytesReceived(bytes(stop))
        #expect(texts(m.interruptRetryDue()) == [])
    }

    @Test func aLateStopReplyWhileRunningIsAnsweredWithContinue() {
        // A retried interrupt that reaches the gdbserver after the command completed makes it stop once more.
        var m = connectedMachine()
        #expect(texts(m.bytesReceived(bytes(stop))) == ["send $c#63"])
        #expect(m.isRunning)
    }
}
