/// GDB's own signal numbers, which the remote protocol uses instead of the host's (`gdb/signals.def`;
/// Valgrind's copy is `coregrind/m_gdbserver/gdb/signals.h`).
public struct GDBSignal: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let hup = GDBSignal(rawValue: 1)
    public static let int = GDBSignal(rawValue: 2)
    public static let quit = GDBSignal(rawValue: 3)
    public static let ill = GDBSignal(rawValue: 4)
    public static let trap = GDBSignal(rawValue: 5)
    public static let abrt = GDBSignal(rawValue: 6)
    public static let fpe = GDBSignal(rawValue: 8)
    public static let kill = GDBSignal(rawValue: 9)
    public static let bus = GDBSignal(rawValue: 10)
    public static let segv = GDBSignal(rawValue: 11)
    public static let sys = GDBSignal(rawValue: 12)
    public static let pipe = GDBSignal(rawValue: 13)
    public static let alrm = GDBSignal(rawValue: 14)
    public static let term = GDBSignal(rawValue: 15)
    public static let urg = GDBSignal(rawValue: 16)
    public static let stop = GDBSignal(rawValue: 17)
    public static let tstp = GDBSignal(rawValue: 18)
    public static let cont = GDBSignal(rawValue: 19)
    public static let chld = GDBSignal(rawValue: 20)
    public static let ttin = GDBSignal(rawValue: 21)
    public static let ttou = GDBSignal(rawValue: 22)
    public static let io = GDBSignal(rawValue: 23)
    public static let xcpu = GDBSignal(rawValue: 24)
    public static let xfsz = GDBSignal(rawValue: 25)
    public static let vtalrm = GDBSignal(rawValue: 26)
    public static let prof = GDBSignal(rawValue: 27)
    public static let winch = GDBSignal(rawValue: 28)
    public static let usr1 = GDBSignal(rawValue: 30)
    public static let usr2 = GDBSignal(rawValue: 31)
    public static let pwr = GDBSignal(rawValue: 32)

    /// Signals a server uses in normal operation. While a client is connected, Valgrind's gdbserver
    /// stops the whole process on every signal not in `QPassSignals` and drops it on a plain `c`
    /// (`m_gdbserver.c:VG_(gdbserver_report_signal)`), so a profiler that stays connected passes these.
    /// Crash signals (SEGV, BUS, ILL, FPE, ABRT) are left out on purpose: they stop the server, snapctl
    /// reports them and then delivers them with `C`.
    public static let passedByDefault: [GDBSignal] = [
        .hup, .int, .quit, .pipe, .alrm, .term, .urg, .tstp, .cont, .chld, .ttin, .ttou, .io, .xcpu, .xfsz,
        .vtalrm, .prof, .winch, .usr1, .usr2, .pwr,
    ]

    private static let names: [UInt8: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 8: "SIGFPE", 9: "SIGKILL",
        10: "SIGBUS", 11: "SIGSEGV", 12: "SIGSYS", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGURG",
        17: "SIGSTOP", 18: "SIGTSTP", 19: "SIGCONT", 20: "SIGCHLD", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGIO",
        24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 30: "SIGUSR1", 31: "SIGUSR2",
        32: "SIGPWR",
    ]

    public var description: String { Self.names[rawValue] ?? "GDB signal \(rawValue)" }
}
