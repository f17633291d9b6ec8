import TextFormat

/// How a managed server stopped, for the run record and the user.
public struct ShutdownOutcome: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What finally stopped the server.
    public enum Method: String, Sendable, Hashable, Codable {
        /// It had already exited (it crashed, or someone else stopped it).
        case alreadyExited
        /// SQL `SHUTDOWN`: the clean way; Massif writes its final file.
        case sqlShutdown
        /// SIGTERM to the process group: still clean; Massif writes its final file.
        case sigterm
        /// SIGKILL to the process group: Massif's final file is lost.
        case sigkill
        /// Nothing stopped it within the bounded waits (should not happen: SIGKILL cannot be ignored).
        case stillRunning
    }

    public var method: Method
    /// The exit of the valgrind process, if it was seen.
    public var exit: ProcessExit?
    /// `RUN/massif.final.out`.
    public var massifFinalFile: String
    /// Whether Massif's final file exists and is not empty.
    public var massifFinalFilePresent: Bool
    /// Whether no process of the server's process group is left.
    public var processGroupGone: Bool
    /// vgdb FIFOs, socket and pid file removed because the server could not remove them itself.
    public var removedStaleFiles: [String]
    /// Seconds from the shutdown request until the process group was gone.
    public var seconds: Double

    /// Creates an outcome.
    public init(
        method: Method,
        exit: ProcessExit?,
        massifFinalFile: String,
        massifFinalFilePresent: Bool,
        processGroupGone: Bool,
        removedStaleFiles: [String],
        seconds: Double
    ) {
        self.method = method
        self.exit = exit
        self.massifFinalFile = massifFinalFile
        self.massifFinalFilePresent = massifFinalFilePresent
        self.processGroupGone = processGroupGone
        self.removedStaleFiles = removedStaleFiles
        self.seconds = seconds
    }

    public var description: String {
        let final =
            massifFinalFilePresent ? "Massif's final file is \(massifFinalFile)" : "Massif wrote no final file"
        return "\(summary); \(final)"
    }

    /// How the server was stopped and how long it took, without Massif's file (a server not profiled).
    public var summary: String {
        let how: String
        switch method {
        case .alreadyExited: how = "had already exited"
        case .sqlShutdown: how = "stopped by SQL SHUTDOWN"
        case .sigterm: how = "stopped by SIGTERM"
        case .sigkill: how = "killed with SIGKILL"
        case .stillRunning: how = "could not be stopped"
        }
        let status = exit.map { " (\($0))" } ?? ""
        return "server \(how)\(status) in \(Format.seconds(seconds))"
    }
}

/// How long each shutdown step may take before the next, harsher one.
public struct ShutdownTimeouts: Sendable, Hashable {
    /// After SQL `SHUTDOWN`: Massif writes its final file on the way out, which takes a while on a big heap.
    public var sqlShutdown: Duration
    /// After SIGTERM to the group.
    public var sigterm: Duration
    /// After SIGKILL to the group.
    public var sigkill: Duration

    /// Creates timeouts.
    public init(
        sqlShutdown: Duration = .seconds(60),
        sigterm: Duration = .seconds(30),
        sigkill: Duration = .seconds(10)
    ) {
        self.sqlShutdown = sqlShutdown
        self.sigterm = sigterm
        self.sigkill = sigkill
    }
}
