import TextFormat
import Valgrind

/// Everything that can go wrong in the MySQLServer module, with what the user needs to fix it.
///
/// Cases carry the place (pid, path, socket) and, for a server that would not start or that died, the
/// tails of its error log and of valgrind's log.
public enum ServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server binary was not found on PATH or at the given path.
    case serverBinaryMissing(name: String, searched: [String])
    /// `<binary> --version` did not print something snapctl recognises as MySQL or MariaDB.
    case unrecognisedServer(binary: String, versionOutput: String)
    /// The datadir initialiser (`mariadb-install-db`, `mysqld --initialize-insecure`) is missing.
    case initialiserMissing(flavor: ServerFlavor, name: String)
    /// valgrind was not found on PATH.
    case valgrindMissing(searched: [String])
    /// vgdb was not found on PATH.
    case vgdbMissing(searched: [String])
    /// `valgrind --version` printed no version.
    case valgrindVersionUnreadable(valgrind: String, output: String)
    /// The socket path does not fit in `sockaddr_un.sun_path`.
    case socketPathTooLong(path: String, length: Int, limit: Int)
    /// Creating the run directory or a file in it failed.
    case runDirectory(path: String, reason: String)
    /// Initialising the datadir failed.
    case datadirInitialisationFailed(command: String, exit: ProcessExit, output: String)
    /// A child process could not be started at all.
    case spawnFailed(command: String, reason: String)
    /// The server exited before it accepted connections.
    case exitedDuringStartup(pid: Int32?, exit: ProcessExit, errorLog: LogTail, valgrindLog: LogTail)
    /// The server did not accept a connection on its socket in time.
    case startupTimedOut(seconds: Double, socket: String, errorLog: LogTail, valgrindLog: LogTail)
    /// The server died after it had started.
    case serverDied(pid: Int32, exit: ProcessExit, errorLog: LogTail, valgrindLog: LogTail)
    /// A Connector/C call failed.
    case sql(SQLError)
    /// The connection was closed, or is being used after `close()`.
    case connectionClosed(name: String)
    /// Attach mode: no live process has that pid.
    case noSuchProcess(pid: Int32)
    /// Attach mode: the process has no vgdb FIFO under the prefix, so it was not started with
    /// `valgrind --vgdb=yes` (or with another `--vgdb-prefix`).
    case noVgdbFIFO(pid: Int32, prefix: String, looked: String)
    /// Attach mode: the environment variable that should hold the password is not set.
    case passwordVariableUnset(name: String)
    /// A library in `LD_PRELOAD` of the server's environment does not exist; the server was not started.
    case preloadMissing(library: String, searched: [String])
    /// Attach mode with `pages_as_heap`: the running valgrind was not started with `--pages-as-heap=yes`,
    /// so its snapshots count malloc's blocks, not pages; nothing was attached.
    case pagesAsHeapNotEnabled(pid: Int32, command: String)
    /// Attach mode with `allocations: true`: the running valgrind was not started with `--xtree-memory=full`,
    /// so it keeps no allocation totals to dump; nothing was attached.
    case xtreeMemoryNotEnabled(pid: Int32, command: String)
    /// `allocations: true` with a valgrind older than 3.13, which has no `--xtree-memory`.
    case xtreeMemoryUnsupported(valgrind: String)
    /// The vgdb monitor that lets a server held at startup run could not be opened.
    case startupMonitor(pid: Int32, ValgrindError)
    /// The operation was cancelled (Ctrl-C); the server has been stopped.
    case cancelled

    public var description: String {
        switch self {
        case .serverBinaryMissing(let name, let searched):
            return """
                server binary '\(name)' not found (searched \(searched.joined(separator: ":"))); \
                install mariadb-server (apt-get install mariadb-server) or give the binary's full path
                """
        case .unrecognisedServer(let binary, let output):
            return """
                '\(binary) --version' does not look like MySQL or MariaDB: \(output.trimmed); \
                give the path of mariadbd or mysqld
                """
        case .initialiserMissing(let flavor, let name):
            return """
                the \(flavor) datadir initialiser '\(name)' was not found; \
                install the server package that provides it (apt-get install mariadb-server)
                """
        case .valgrindMissing(let searched):
            return """
                valgrind not found on PATH (\(searched.joined(separator: ":"))); install it (apt-get install valgrind)
                """
        case .vgdbMissing(let searched):
            return """
                vgdb not found on PATH (\(searched.joined(separator: ":"))); it ships with valgrind: \
                reinstall valgrind (apt-get install --reinstall valgrind)
                """
        case .valgrindVersionUnreadable(let valgrind, let output):
            return "'\(valgrind) --version' printed no version: \(output.trimmed); check the valgrind installation"
        case .socketPathTooLong(let path, let length, let limit):
            return """
                socket path \(path) is \(length) bytes but a unix socket path holds at most \(limit) \
                (sockaddr_un.sun_path); use a shorter run directory
                """
        case .runDirectory(let path, let reason):
            return "cannot prepare \(path): \(reason); check the permissions and free space of the run directory"
        case .datadirInitialisationFailed(let command, let exit, let output):
            return """
                initialising the datadir failed (\(exit)): \(command)
                its output:
                \(output.trimmed.isEmpty ? "(none)" : output.trimmed)
                """
        case .spawnFailed(let command, let reason):
            return "could not start \(command): \(reason)"
        case .exitedDuringStartup(let pid, let exit, let errorLog, let valgrindLog):
            let who = pid.map { "the server (valgrind pid \($0))" } ?? "the server"
            return """
                \(who) exited during startup with \(exit); check its options and the logs below
                \(errorLog)
                \(valgrindLog)
                """
        case .startupTimedOut(let seconds, let socket, let errorLog, let valgrindLog):
            return """
                the server did not accept connections on \(socket) within \(Format.limitSeconds(seconds)); \
                it has been stopped. Raise the startup timeout if the machine is slow, or look at the logs below
                \(errorLog)
                \(valgrindLog)
                """
        case .serverDied(let pid, let exit, let errorLog, let valgrindLog):
            return """
                the server (valgrind pid \(pid)) died with \(exit); Massif's final file is not written after \
                a crash or SIGKILL
                \(errorLog)
                \(valgrindLog)
                """
        case .sql(let error):
            return error.description
        case .connectionClosed(let name):
            return "connection '\(name)' is closed; open a new one"
        case .noSuchProcess(let pid):
            return "no process with pid \(pid); check the pid of the valgrind process running the server"
        case .noVgdbFIFO(let pid, let prefix, let looked):
            return """
                process \(pid) has no vgdb FIFO \(prefix)-from-vgdb-to-\(pid)-* (looked in \(looked)); \
                start the server under 'valgrind --tool=massif --vgdb=yes' and give the same --vgdb-prefix
                """
        case .passwordVariableUnset(let name):
            return "the environment variable \(name), named as the password's source, is not set; export it"
        case .preloadMissing(let library, let searched):
            let looked = searched.isEmpty ? "" : " (looked in \(searched.joined(separator: ":")))"
            return """
                LD_PRELOAD in server.env names \(library), which does not exist\(looked); the server was not \
                started; install the library (e.g. apt-get install libjemalloc2) or give its full path
                """
        case .pagesAsHeapNotEnabled(let pid, let command):
            return """
                the plan asks for pages_as_heap, but valgrind process \(pid) was started without \
                --pages-as-heap=yes (\(command)); restart the server under valgrind with --pages-as-heap=yes \
                added, or remove pages_as_heap from the plan
                """
        case .xtreeMemoryNotEnabled(let pid, let command):
            return """
                the plan asks for allocations (the allocated lens), but valgrind process \(pid) was started without \
                --xtree-memory=full (\(command)); restart the server under valgrind with --xtree-memory=full added, \
                or remove allocations: true from the plan
                """
        case .xtreeMemoryUnsupported(let valgrind):
            return """
                the plan asks for allocations (the allocated lens), which needs valgrind 3.13 or later for \
                --xtree-memory=full; valgrind \(valgrind) is installed; upgrade valgrind or remove allocations: true \
                from the plan
                """
        case .startupMonitor(let pid, let error):
            return "the vgdb monitor could not connect to valgrind (pid \(pid)), which waits for it at the "
                + "server's first instruction; the server has been stopped. \(error)"
        case .cancelled:
            return "cancelled; the server has been stopped"
        }
    }
}

/// A failed Connector/C call: the error code, SQLSTATE and message, and which connection.
public struct SQLError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The MySQL error number (`mysql_errno`), e.g. 1045 or 2002.
    public var code: UInt32
    /// The SQLSTATE (`mysql_sqlstate`), e.g. `28000`.
    public var sqlState: String
    /// The message (`mysql_error`).
    public var message: String
    /// The connection's name.
    public var connection: String
    /// The statement that failed, if any.
    public var statement: String?

    /// Creates an error from its parts.
    public init(code: UInt32, sqlState: String, message: String, connection: String, statement: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.connection = connection
        self.statement = statement
    }

    /// Whether the error says the server went away (2006 CR_SERVER_GONE_ERROR, 2013 CR_SERVER_LOST,
    /// 2002 CR_CONNECTION_ERROR): the caller should check whether the server died.
    public var isConnectionLost: Bool { [2002, 2006, 2013].contains(code) }

    public var description: String {
        var text = "SQL error \(code) (\(sqlState)) on connection '\(connection)': \(message)"
        if let statement { text += "\n  in: \(statement.prefix(300))" }
        return text
    }
}

extension String {
    var trimmed: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
