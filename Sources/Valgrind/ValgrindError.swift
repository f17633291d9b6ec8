import GDBRemote
import TextFormat

/// Everything that can go wrong while talking to a process under Valgrind, with what to do about it.
public enum ValgrindError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No process has this pid.
    case noSuchProcess(pid: Int32)
    /// The process exists but has no vgdb FIFO under the prefix.
    case noFIFO(pid: Int32, prefix: String, found: [VgdbEndpoint])
    /// Another vgdb already speaks with the process (Valgrind allows one at a time).
    case lockHeld(pid: Int32, detail: String)
    /// The vgdb executable could not be started.
    case vgdbUnavailable(path: String, reason: String)
    /// vgdb exited before the handshake finished.
    case vgdbFailed(pid: Int32, prefix: String, stderr: String)
    /// No answer in time.
    case timedOut(pid: Int32, prefix: String, phase: WaitPhase, seconds: Double, stderr: String)
    /// The process ended while snapctl was connected.
    case processEnded(pid: Int32, end: ProcessEnd)
    /// The relay closed while an answer was expected.
    case connectionClosed(pid: Int32, phase: WaitPhase?, stderr: String)
    /// A monitor command ran but reported a failure in its output (Valgrind still answers `OK`).
    case commandFailed(command: String, output: String, reason: String)
    /// A snapshot path snapctl refuses before sending.
    case invalidPath(String, reason: String)
    /// Any other protocol-level failure.
    case protocolFailure(pid: Int32, failure: MonitorFailure)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid):
            return
                "no process with pid \(pid): check the pid (the valgrind pid is the one mariadbd writes to its pid file)"
        case .noFIFO(let pid, let prefix, let found):
            var text =
                "pid \(pid) has no vgdb FIFO under prefix \(prefix) (looked for \(prefix)-from-vgdb-to-\(pid)-*): "
                + "start it with valgrind --vgdb=yes --vgdb-prefix=\(prefix), or pass the prefix it was started with"
            if found.isEmpty {
                text += "; no valgrind process has FIFOs under that prefix"
            } else {
                text += "; valgrind pids with FIFOs there: "
                text += found.map { "\($0.pid)\($0.alive ? "" : " (gone, stale FIFO)")" }.joined(separator: ", ")
            }
            return text
        case .lockHeld(let pid, let detail):
            return
                "another vgdb already speaks with pid \(pid) (\(detail)); only one may: stop the other gdb or vgdb first"
        case .vgdbUnavailable(let path, let reason):
            return
                "cannot run vgdb at \(path): \(reason); install valgrind (apt-get install valgrind) or run snapctl doctor"
        case .vgdbFailed(let pid, let prefix, let stderr):
            return "vgdb could not connect to pid \(pid) under prefix \(prefix): \(Self.tail(stderr))"
        case .timedOut(let pid, let prefix, let phase, let seconds, let stderr):
            var text = "no \(phase.rawValue) from pid \(pid) within \(Format.limitSeconds(seconds)) (prefix \(prefix))"
            if phase == .stopReply || phase == .handshake {
                text +=
                    ": the process is idle and vgdb could not wake it. Likely cause: ptrace is refused "
                    + "(kernel.yama.ptrace_scope above 0 without CAP_SYS_PTRACE, a container without "
                    + "--cap-add=SYS_PTRACE, a seccomp profile) or vgdb ran with --max-invoke-ms=0. Remedies: run "
                    + "snapctl as root or with CAP_SYS_PTRACE, set kernel.yama.ptrace_scope=0, or start valgrind "
                    + "with a low --vgdb-poll and keep the server busy; snapctl doctor checks ptrace"
            } else {
                text += ": the command is still running or the process is stuck; raise the timeout for large heaps"
            }
            if !stderr.isEmpty { text += ". vgdb said: \(Self.tail(stderr))" }
            return text
        case .processEnded(let pid, let end):
            return "pid \(pid) \(end) while snapctl was connected"
        case .connectionClosed(let pid, let phase, let stderr):
            var text = "the vgdb relay to pid \(pid) closed"
            if let phase { text += " while waiting for the \(phase.rawValue)" }
            text += ": the process probably died (check its log)"
            if !stderr.isEmpty { text += "; vgdb said: \(Self.tail(stderr))" }
            return text
        case .commandFailed(let command, let output, let reason):
            let shown = output.trimmingTrailingNewlines()
            return "monitor command '\(command)' failed: \(reason)" + (shown.isEmpty ? "" : ": \(shown)")
        case .invalidPath(let path, let reason):
            return "refusing snapshot path '\(path)': \(reason)"
        case .protocolFailure(let pid, let failure):
            return "pid \(pid): \(failure)"
        }
    }

    static func tail(_ text: String, lines: Int = 6) -> String {
        let all = text.split(separator: "\n", omittingEmptySubsequences: true)
        var seen: [Substring] = []
        for line in all.suffix(lines * 4) where seen.last != line { seen.append(line) }
        return seen.suffix(lines).joined(separator: " | ")
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
