import Subprocess
import Valgrind

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What to launch without valgrind: a throwaway server beside the profiled one (a replica's primary).
public struct NativeLaunchOptions: Sendable, Hashable {
    /// The run directory (created by the caller).
    public var runDirectory: String
    /// Names the server's private directory and logs (``ServerRunLayout/role``).
    public var role: String
    /// The server binary: a name on `PATH` (plus `/usr/sbin`) or a path.
    public var serverBinary: String
    /// The flavour; `nil` reads it from `--version`.
    public var flavor: ServerFlavor?
    /// Options snapctl needs for this server's part (`--server-id=1`, `--log-bin`), before the plan's.
    public var leadingOptions: [String]
    /// The plan's options.
    public var serverOptions: [String]
    /// Options that come after the plan's, so that none of them can change these (the loopback address
    /// and port the server listens on).
    public var trailingOptions: [String]
    /// How long the server may take to accept a connection.
    public var startupTimeout: Duration
    /// A `PATH` to search instead of the process's own.
    public var searchPath: String?
    /// Variables added to the server's environment.
    public var environment: [String: String]
    /// Where initialised datadirs are cached.
    public var datadirCache: DatadirCacheSetting = .automatic

    public init(
        runDirectory: String,
        role: String,
        serverBinary: String = "mariadbd",
        flavor: ServerFlavor? = nil,
        leadingOptions: [String] = [],
        serverOptions: [String] = [],
        trailingOptions: [String] = [],
        startupTimeout: Duration = .seconds(60),
        searchPath: String? = nil,
        environment: [String: String] = [:]
    ) {
        self.runDirectory = runDirectory
        self.role = role
        self.serverBinary = serverBinary
        self.flavor = flavor
        self.leadingOptions = leadingOptions
        self.serverOptions = serverOptions
        self.trailingOptions = trailingOptions
        self.startupTimeout = startupTimeout
        self.searchPath = searchPath
        self.environment = environment
    }
}

/// A throwaway server snapctl started without valgrind, at full speed, in `RUN/<role>/`: a profiled
/// replica's primary.
///
/// It is started and stopped like ``ManagedServer`` (its own process group; SQL `SHUTDOWN`, then SIGTERM,
/// then SIGKILL of the group on every way out), from the same datadir cache, with the same private
/// datadir, tmpdir and socket; only valgrind is missing.
public actor NativeServer {
    /// Where the server's files are.
    public nonisolated let layout: ServerRunLayout
    /// The server binary, flavour and version.
    public nonisolated let binary: ServerBinary
    /// The server's command line after the binary.
    public nonisolated let arguments: [String]
    /// The server's pid (also its process group).
    public nonisolated let pid: Int32
    /// How long the server took to accept its first connection.
    public nonisolated let startupDuration: Duration
    private nonisolated let exitBox: ExitBox
    private nonisolated let supervisor: Task<ProcessExit, any Error>
    private var shutdownTask: Task<ShutdownOutcome, Never>?

    /// The server's unix socket.
    public nonisolated var socketPath: String { layout.socket }
    /// How the process ended, or `nil` while it runs.
    public nonisolated var exitStatus: ProcessExit? { exitBox.value }

    private init(
        layout: ServerRunLayout,
        binary: ServerBinary,
        arguments: [String],
        pid: Int32,
        startupDuration: Duration,
        exitBox: ExitBox,
        supervisor: Task<ProcessExit, any Error>
    ) {
        self.layout = layout
        self.binary = binary
        self.arguments = arguments
        self.pid = pid
        self.startupDuration = startupDuration
        self.exitBox = exitBox
        self.supervisor = supervisor
    }

    /// A last resort when the server is dropped without ``shutdown(timeouts:)``.
    deinit {
        if exitBox.value == nil { ProcessGroup.signal(pid, SIGTERM) }
    }

    /// Prepares a datadir (from the cache when it can), starts the server and waits until it accepts a
    /// connection on its socket. On any failure, and on cancellation, the server is stopped before this
    /// returns.
    public static func launch(
        _ options: NativeLaunchOptions,
        progress: @escaping @Sendable (LaunchProgress) -> Void = { _ in }
    ) async throws(ServerError) -> NativeServer {
        let layout = ServerRunLayout(runDirectory: options.runDirectory, role: options.role)
        try layout.validate()
        let binaryPath = try ServerLocator.resolve(options.serverBinary, path: options.searchPath)
        var binary = try await ServerLocator.identify(binaryPath)
        if let flavor = options.flavor { binary.flavor = flavor }
        try AllocatorDetector.checkPreload(environment: options.environment)
        let adapter = FlavorAdapter(binary: binary, runningAsRoot: ServerLocator.runningAsRoot)

        try FileIO.makeDirectory(layout.serverDirectory, mode: 0o700)
        try FileIO.makeDirectory(layout.tmpdir, mode: 0o700)
        try FileIO.makeDirectory(layout.logsDirectory, mode: 0o755)
        for path in [layout.socket, layout.pidFile, layout.errorLog, layout.consoleLog] { unlink(path) }

        if FileIO.exists(layout.datadir + "/mysql") {
            progress(.reusingDatadir(path: layout.datadir))
        } else {
            guard let initialiser = ServerLocator.initialiser(for: binary, path: options.searchPath) else {
                throw .initialiserMissing(flavor: binary.flavor, name: adapter.initialiserName)
            }
            try await ManagedServer.prepareDatadir(
                adapter: adapter,
                initialiser: initialiser,
                layout: layout,
                cache: options.datadirCache,
                progress: progress
            )
        }
        if Task.isCancelled { throw .cancelled }

        // The flags of a private server, less `--skip-networking`: this one listens, on the address and
        // port of `trailingOptions`. The valgrind version given turns off the io_uring workaround.
        let flags = adapter.serverFlags(
            layout: layout,
            valgrind: ValgrindInstallation.firstReleaseWithWorkingIOUring,
            userOptions: options.leadingOptions + options.serverOptions
        )
        let arguments =
            flags.ours.filter { $0 != "--skip-networking" } + flags.user + options.trailingOptions
        let description = ([binary.path] + arguments).map(ValgrindCommand.shellQuote).joined(separator: " ")
        let exitBox = ExitBox()
        let (pid, supervisor) = try await ManagedServer.spawn(
            executable: binary.path,
            arguments: arguments,
            description: description,
            environment: options.environment,
            layout: layout,
            exitBox: exitBox
        )
        let started = ContinuousClock.now
        do {
            _ = try await ManagedServer.waitUntilReady(
                pid: pid,
                layout: layout,
                exitBox: exitBox,
                timeout: options.startupTimeout,
                started: started,
                underValgrind: false,
                progress: { _ in }
            )
        } catch {
            _ = await ManagedServer.stop(
                pid: pid,
                pgid: pid,
                exitBox: exitBox,
                layout: layout,
                sql: false,
                timeouts: .init()
            )
            if case .startupTimedOut = error {
                throw .startupTimedOut(
                    seconds: options.startupTimeout.seconds,
                    socket: layout.socket,
                    errorLog: LogTail.read(layout.errorLog),
                    valgrindLog: LogTail.read(layout.consoleLog)
                )
            }
            if case .exitedDuringStartup(_, let exit, _, _) = error {
                // Tails read after the stop, so that they hold everything the server printed.
                throw .exitedDuringStartup(
                    pid: nil,
                    exit: exit,
                    errorLog: LogTail.read(layout.errorLog),
                    valgrindLog: LogTail.read(layout.consoleLog)
                )
            }
            throw error
        }
        return NativeServer(
            layout: layout,
            binary: binary,
            arguments: arguments,
            pid: pid,
            startupDuration: ContinuousClock.now - started,
            exitBox: exitBox,
            supervisor: supervisor
        )
    }

    /// Opens a connection over the server's socket.
    public func connect(
        name: String,
        user: String = "root",
        password: String? = nil,
        database: String? = nil
    ) async throws(ServerError) -> Connection {
        try await Connection.connect(
            ConnectionOptions(
                name: name,
                target: .socket(path: layout.socket),
                user: user,
                password: password,
                database: database
            )
        )
    }

    /// Why the server is gone, or `nil` while it runs (or once it was asked to stop).
    public func death() -> String? {
        guard shutdownTask == nil, let exit = exitBox.value else { return nil }
        return deathReport(exit).description
    }

    /// A lost connection's real story: the server's death, with its log tails.
    public func explain(_ error: ServerError, grace: Duration = .seconds(2)) async -> ServerError {
        guard case .sql(let sqlError) = error, sqlError.isConnectionLost, shutdownTask == nil else { return error }
        guard let exit = await exitBox.wait(upTo: grace) else { return error }
        return deathReport(exit)
    }

    /// The error that reports the server's death, with the tails of its logs.
    public nonisolated func deathReport(_ exit: ProcessExit) -> ServerError {
        .serverDied(
            pid: pid,
            exit: exit,
            errorLog: LogTail.read(layout.errorLog),
            valgrindLog: LogTail.read(layout.consoleLog)
        )
    }

    /// Stops the server (SQL `SHUTDOWN`, SIGTERM, SIGKILL of the group, each bounded) and removes its
    /// socket and pid file. Shared by every caller; runs to the end even when the caller is cancelled.
    public func shutdown(timeouts: ShutdownTimeouts = ShutdownTimeouts()) async -> ShutdownOutcome {
        if let shutdownTask { return await shutdownTask.value }
        let (pid, exitBox, layout) = (pid, exitBox, layout)
        let task = Task {
            await ManagedServer.stop(
                pid: pid,
                pgid: pid,
                exitBox: exitBox,
                layout: layout,
                sql: true,
                timeouts: timeouts
            )
        }
        shutdownTask = task
        return await task.value
    }

    /// Deletes the server's private directory (datadir, binary logs, tmpdir) once it has stopped.
    public func removeFiles() throws(ServerError) {
        guard exitBox.value != nil, !ProcessGroup.isAlive(pid) else {
            throw .runDirectory(path: layout.datadir, reason: "the server is still running; shut it down first")
        }
        FileIO.removeTree(layout.serverDirectory)
    }
}

/// Free TCP ports on the loopback address.
public enum LoopbackPort {
    /// A port nothing listens on now: the kernel's pick for a socket bound to 127.0.0.1 port 0. Another
    /// program could take it before the server does; the server then fails to start and says so.
    public static func pick() throws(ServerError) -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else {
            throw .spawnFailed(command: "socket()", reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            throw .spawnFailed(command: "bind(127.0.0.1:0)", reason: String(cString: strerror(errno)))
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            throw .spawnFailed(command: "getsockname()", reason: String(cString: strerror(errno)))
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1 at `port`.
    public static func isListening(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0, let port16 = UInt16(exactly: port) else { return false }
        defer { close(descriptor) }
        var address = loopback(port: port16)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return connected == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
