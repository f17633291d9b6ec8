import Subprocess
import Synchronization
import Valgrind

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A throwaway server that snapctl started under Massif with vgdb, in a private run directory.
///
/// The valgrind process runs in its own process group (so Ctrl-C at the terminal does not reach it and
/// the whole group can be signalled); every path out (``shutdown(timeouts:)``, a failed or cancelled
/// ``launch(_:progress:)``) stops it with SQL `SHUTDOWN`, then SIGTERM, then SIGKILL of the group,
/// each with a bounded wait, and removes what a killed valgrind leaves behind.
public actor ManagedServer {
    /// Where the server's files are.
    public nonisolated let layout: ServerRunLayout
    /// The server binary, flavour and version.
    public nonisolated let binary: ServerBinary
    /// The valgrind installation used.
    public nonisolated let valgrind: ValgrindInstallation
    /// The exact valgrind command line, for the run record.
    public nonisolated let valgrindCommand: ValgrindCommand
    /// The server options inside it.
    public nonisolated let serverFlags: ServerFlags
    /// The valgrind process's pid: the pid vgdb needs (`vgdb --pid`), and the pid mariadbd writes to its
    /// pid file (Debian's `/usr/bin/valgrind` script execs `valgrind.bin`, which keeps the pid).
    public nonisolated let valgrindPID: Int32
    /// The process group that holds valgrind and anything it started.
    public nonisolated let processGroupID: Int32
    /// How long the server took to accept its first connection.
    public nonisolated let startupDuration: Duration
    /// The malloc replacements found in the binary and its environment (see ``AllocatorDetection``).
    public nonisolated let allocators: [AllocatorDetection]
    /// The `--soname-synonyms` option snapctl added for them, if any.
    public nonisolated let sonameSynonymsOption: String?
    private nonisolated let exitBox: ExitBox
    private nonisolated let supervisor: Task<ProcessExit, any Error>
    private var shutdownTask: Task<ShutdownOutcome, Never>?
    private var startupMonitor: MonitorSession?
    private var readyConnection: Connection?

    /// The server flavour.
    public nonisolated var flavor: ServerFlavor { binary.flavor }
    /// The server version.
    public nonisolated var version: ServerVersion { binary.version }
    /// The `--vgdb-prefix` (`RUN/server/vgdb`), for the vgdb relay.
    public nonisolated var vgdbPrefix: String { layout.vgdbPrefix }
    /// The server's unix socket.
    public nonisolated var socketPath: String { layout.socket }
    /// Massif's end-of-run file (`RUN/massif.final.out`).
    public nonisolated var massifFinalFile: String { layout.massifFinalFile }
    /// How the valgrind process ended, or `nil` while it runs.
    public nonisolated var exitStatus: ProcessExit? { exitBox.value }

    private init(
        layout: ServerRunLayout,
        binary: ServerBinary,
        valgrind: ValgrindInstallation,
        valgrindCommand: ValgrindCommand,
        serverFlags: ServerFlags,
        valgrindPID: Int32,
        processGroupID: Int32,
        startupDuration: Duration,
        allocators: [AllocatorDetection],
        sonameSynonymsOption: String?,
        exitBox: ExitBox,
        supervisor: Task<ProcessExit, any Error>,
        startupMonitor: MonitorSession?,
        readyConnection: Connection?
    ) {
        self.layout = layout
        self.binary = binary
        self.valgrind = valgrind
        self.valgrindCommand = valgrindCommand
        self.serverFlags = serverFlags
        self.valgrindPID = valgrindPID
        self.processGroupID = processGroupID
        self.startupDuration = startupDuration
        self.allocators = allocators
        self.sonameSynonymsOption = sonameSynonymsOption
        self.exitBox = exitBox
        self.supervisor = supervisor
        self.startupMonitor = startupMonitor
        self.readyConnection = readyConnection
    }

    /// A last resort when the server is dropped without ``shutdown(timeouts:)``: SIGTERM the group (a
    /// clean exit for valgrind; nothing here can wait for it).
    deinit {
        if exitBox.value == nil { ProcessGroup.signal(processGroupID, SIGTERM) }
    }

    // MARK: - Launch

    /// Initialises a datadir (unless one is there), starts the server under Massif, and waits until it
    /// accepts a connection on its socket.
    ///
    /// On any failure, and on cancellation, the server is stopped before this returns.
    /// - Parameter progress: called with events the CLI can render; it must return quickly.
    public static func launch(
        _ options: LaunchOptions,
        progress: @escaping @Sendable (LaunchProgress) -> Void = { _ in }
    ) async throws(ServerError) -> ManagedServer {
        let layout = ServerRunLayout(runDirectory: options.runDirectory)
        try layout.validate()
        // `valgrind --version` and the server's `--version` are two independent processes: run them at once
        // (or read what they printed last time, when their files have not changed since).
        let memo = options.datadirCache.root(environment: ProcessEnvironment.cacheVariables()).map {
            VersionMemo(cacheRoot: $0)
        }
        async let locatedValgrind = outcome { () async throws(ServerError) in
            try await locateValgrind(path: options.searchPath, memo: memo)
        }
        let identified = await outcome { () async throws(ServerError) in
            try await ServerLocator.identify(
                ServerLocator.resolve(options.serverBinary, path: options.searchPath),
                memo: memo
            )
        }
        // A missing valgrind is reported first, as before, whatever the server binary says.
        let valgrind = try await locatedValgrind.get()
        var binary = try identified.get()
        if let flavor = options.flavor { binary.flavor = flavor }
        progress(.identified(binary, valgrind: valgrind.version))
        if options.massifOptions.contains(where: { $0.hasPrefix("--xtree-memory=") }),
            valgrind.version < ValgrindVersion(3, 13)
        {
            throw .xtreeMemoryUnsupported(valgrind: valgrind.version.description)
        }
        // Before anything is made: a missing preload would start the server on another malloc.
        try AllocatorDetector.checkPreload(environment: options.environment)
        let allocators = AllocatorDetector.detect(binary: binary.path, environment: options.environment)
        let synonyms = AllocatorDetector.massifOptions(for: allocators, userOptions: options.massifOptions)
        for allocator in allocators {
            progress(.allocator(allocator, option: allocator.sonameSynonyms == nil ? nil : synonyms.first))
        }
        let adapter = FlavorAdapter(
            binary: binary,
            runningAsRoot: ServerLocator.runningAsRoot,
            bufferPoolSize: options.bufferPoolSize
        )

        try FileIO.makeDirectory(layout.serverDirectory, mode: 0o700)
        try FileIO.makeDirectory(layout.tmpdir, mode: 0o700)
        try FileIO.makeDirectory(layout.logsDirectory, mode: 0o755)
        // What an earlier server in this directory left: the tails we show must be this run's.
        for path in [layout.socket, layout.pidFile, layout.errorLog, layout.valgrindLog, layout.massifFinalFile] {
            unlink(path)
        }

        // With the session's connections kept, valgrind starts first and waits at the server's first
        // instruction while the datadir is copied: its own start (reading the server's and the libraries'
        // symbols, 150-200 ms) and the copy overlap. The vgdb monitor that lets it run is kept for the session.
        // The user's options may hold it there already; then the monitor connected at startup is what lets
        // it run, whether or not the session keeps it.
        let addsStartupHold =
            options.keepsConnections && FlavorAdapter.canStopAtStartup(massifOptions: options.massifOptions)
        let stopsAtStartup =
            addsStartupHold || FlavorAdapter.userStopsAtStartup(massifOptions: options.massifOptions)
        func makeDatadir(with initialiser: String) async throws(ServerError) {
            try await prepareDatadir(
                adapter: adapter,
                initialiser: initialiser,
                layout: layout,
                cache: options.datadirCache,
                progress: progress
            )
        }
        var initialiser: String?
        if FileIO.exists(layout.datadir + "/mysql") {
            progress(.reusingDatadir(path: layout.datadir))
        } else {
            guard let found = ServerLocator.initialiser(for: binary, path: options.searchPath) else {
                throw .initialiserMissing(flavor: binary.flavor, name: adapter.initialiserName)
            }
            initialiser = found
            if !stopsAtStartup { try await makeDatadir(with: found) }
        }
        if Task.isCancelled { throw .cancelled }

        let flags = adapter.serverFlags(layout: layout, valgrind: valgrind.version, userOptions: options.serverOptions)
        // glibc's copy loops instead of `rep movsb`, which valgrind runs a byte at a time (see GuestTunables).
        let inheritedTunables =
            options.environment[GuestTunables.variable] ?? getenv(GuestTunables.variable).map { String(cString: $0) }
        let tunables = [GuestTunables.variable: GuestTunables.merged(with: inheritedTunables)]
        // Whether the server's own frames carry inline information valgrind would read.
        var hasDWARF = true
        if let symbols = ELFSymbols.inspect(binary.path) {
            hasDWARF = symbols.hasDebugInfo || symbols.installedDebugFile(for: binary.path) != nil
        }
        let threads = FlavorAdapter.maxThreads(
            serverOptions: options.serverOptions,
            massifOptions: options.massifOptions,
            processors: Self.onlineProcessors
        )
        // Built a part at a time: one long `+` chain of optionals and conditionals can exceed the type
        // checker's time limit on a loaded machine.
        var valgrindOptions: [String] = []
        if let threads { valgrindOptions.append("--max-threads=\(threads)") }
        valgrindOptions += FlavorAdapter.startOptions(
            serverHasDWARF: hasDWARF,
            valgrind: valgrind.version,
            massifOptions: options.massifOptions
        )
        valgrindOptions += synonyms
        if addsStartupHold { valgrindOptions.append(FlavorAdapter.stopAtStartupOption) }
        valgrindOptions += options.massifOptions
        let command = ValgrindCommand(
            valgrind: valgrind.valgrind,
            vgdbPrefix: layout.vgdbPrefix,
            massifOutFile: layout.massifFinalFile,
            logFile: layout.valgrindLog,
            massifOptions: valgrindOptions,
            program: binary.path,
            programArguments: flags.arguments,
            environment: tunables
        )
        let exitBox = ExitBox()
        let (pid, supervisor) = try await spawn(
            executable: command.valgrind,
            arguments: command.arguments,
            description: command.description,
            environment: options.environment.merging(tunables) { _, ours in ours },
            layout: layout,
            exitBox: exitBox
        )
        progress(.started(command, pid: pid))

        let started = ContinuousClock.now
        var monitor: MonitorSession?
        let observer: Connection?
        do throws(ServerError) {
            if stopsAtStartup {
                if let initialiser { try await makeDatadir(with: initialiser) }
                if Task.isCancelled { throw .cancelled }
                monitor = try await openStartupMonitor(
                    pid: pid,
                    layout: layout,
                    exitBox: exitBox,
                    timeout: options.startupTimeout,
                    started: started
                )
                if !options.keepsConnections, let opened = monitor {
                    // Only the user's own hold brought it here, and nobody takes it: its handshake has let
                    // the server run, and a relay left connected would keep every other vgdb client out.
                    await opened.close()
                    monitor = nil
                }
            }
            observer = try await waitUntilReady(
                pid: pid,
                layout: layout,
                exitBox: exitBox,
                timeout: options.startupTimeout,
                started: started,
                keeping: options.keepsConnections ? observerName : nil,
                progress: progress
            )
        } catch {
            if let monitor {
                await monitor.close()
            } else if stopsAtStartup {
                // Waiting for its first vgdb connection, valgrind does not act on SIGTERM; the server has
                // not run a single instruction, so there is nothing to lose.
                ProcessGroup.signal(pid, SIGKILL)
            }
            _ = await stop(pid: pid, pgid: pid, exitBox: exitBox, layout: layout, sql: false, timeouts: .init())
            if case .startupTimedOut = error {
                // Tails read after the stop, so that they hold everything the server printed.
                throw .startupTimedOut(
                    seconds: options.startupTimeout.seconds,
                    socket: layout.socket,
                    errorLog: LogTail.read(layout.errorLog),
                    valgrindLog: LogTail.read(layout.valgrindLog)
                )
            }
            throw error
        }
        let elapsed = ContinuousClock.now - started
        progress(.ready(elapsed: elapsed))

        // The pid file is the server's own word for its pid; it is valgrind's pid.
        let filePID = FileIO.readAll(layout.pidFile).flatMap { Int32($0.trimmed) }
        return ManagedServer(
            layout: layout,
            binary: binary,
            valgrind: valgrind,
            valgrindCommand: command,
            serverFlags: flags,
            valgrindPID: filePID ?? pid,
            processGroupID: pid,
            startupDuration: elapsed,
            allocators: allocators,
            sonameSynonymsOption: synonyms.first,
            exitBox: exitBox,
            supervisor: supervisor,
            startupMonitor: monitor,
            readyConnection: observer
        )
    }

    /// The name of the readiness connection when it is kept as the session's observer.
    public static let observerName = "snapctl-observer"

    /// Waits until valgrind, stopped at the server's first instruction, has made its vgdb FIFOs, then
    /// connects the monitor; its handshake ends with the `c` that lets the server run.
    static func openStartupMonitor(
        pid: Int32,
        layout: ServerRunLayout,
        exitBox: ExitBox,
        timeout: Duration,
        started: ContinuousClock.Instant
    ) async throws(ServerError) -> MonitorSession {
        while true {
            if let exit = exitBox.value {
                throw .exitedDuringStartup(
                    pid: pid,
                    exit: exit,
                    errorLog: LogTail.read(layout.errorLog),
                    valgrindLog: LogTail.read(layout.valgrindLog, lines: 20).orConsole(layout.consoleLog)
                )
            }
            if Task.isCancelled { throw .cancelled }
            let endpoints = VgdbEndpoint.scan(prefix: layout.vgdbPrefix)
            // The prefix is the run's own: valgrind's pid is the spawned pid, or (behind a wrapper that
            // forks) the only one there.
            let endpoint = endpoints.first { $0.pid == pid } ?? (endpoints.count == 1 ? endpoints.first : nil)
            if let endpoint {
                do throws(ValgrindError) {
                    return try await MonitorSession.connect(pid: endpoint.pid, prefix: layout.vgdbPrefix)
                } catch {
                    throw .startupMonitor(pid: endpoint.pid, error)
                }
            }
            if ContinuousClock.now - started > timeout {
                throw .startupTimedOut(
                    seconds: timeout.seconds,
                    socket: layout.socket,
                    errorLog: LogTail(path: layout.errorLog, lines: []),
                    valgrindLog: LogTail(path: layout.valgrindLog, lines: [])
                )
            }
            // valgrind makes the FIFOs 150-200 ms after it starts (after reading the server's symbols).
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The processors online: the server's thread limit and the datadir copy's threads depend on them.
    static var onlineProcessors: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The vgdb monitor opened while the server started, for the session to use; `nil` once taken, or
    /// when the launch did not keep connections.
    public func takeStartupMonitor() -> MonitorSession? {
        defer { startupMonitor = nil }
        return startupMonitor
    }

    /// The readiness connection, kept as the session's observer (``observerName``); `nil` once taken, or
    /// when the launch did not keep connections.
    public func takeReadyConnection() -> Connection? {
        defer { readyConnection = nil }
        return readyConnection
    }

    /// The result of `body`, caught, so that an `async let` keeps the error's type.
    private static func outcome<T: Sendable>(
        _ body: () async throws(ServerError) -> T
    ) async -> Result<T, ServerError> {
        do throws(ServerError) { return .success(try await body()) } catch { return .failure(error) }
    }

    private static func locateValgrind(
        path: String?,
        memo: VersionMemo?
    ) async throws(ServerError)
        -> ValgrindInstallation
    {
        switch await ValgrindInstallation.locate(path: path, memo: memo) {
        case .found(let installation):
            return installation
        case .valgrindMissing(let searched):
            throw .valgrindMissing(searched: searched)
        case .vgdbMissing(_, let searched):
            throw .vgdbMissing(searched: searched)
        case .versionUnreadable(let valgrind, let output):
            throw .valgrindVersionUnreadable(valgrind: valgrind, output: output)
        }
    }

    /// Fills the run's datadir: a verified copy from the datadir cache (built there first if needed), or, with
    /// no cache or when the cache fails, the initialiser run straight into the run directory.
    static func prepareDatadir(
        adapter: FlavorAdapter,
        initialiser: String,
        layout: ServerRunLayout,
        cache setting: DatadirCacheSetting,
        progress: @Sendable (LaunchProgress) -> Void
    ) async throws(ServerError) {
        if let root = setting.root(environment: ProcessEnvironment.cacheVariables()) {
            let cache = DatadirCache(root: root)
            let key = DatadirCache.Key(
                binary: adapter.binary,
                command: adapter.initialisationCommand(
                    initialiser: initialiser,
                    layout: DatadirCache.Key.placeholderLayout
                )
            )
            do {
                let outcome = try await cache.provide(key: key, into: layout) { (build) throws(ServerError) in
                    let command = adapter.initialisationCommand(initialiser: initialiser, layout: build)
                    progress(.initialisingDatadir(command))
                    try await initialiseDatadir(command, layout: build)
                }
                let built = FileIO.readAll(outcome.entry + "/logs/datadir-init.log") ?? ""
                FileIO.writeFile(
                    layout.initialisationLog,
                    contents: "snapctl: datadir copied from the cache entry \(outcome.entry); its initialiser said:\n"
                        + built
                )
                progress(.datadirFromCache(outcome))
                return
            } catch {
                switch error {
                case .cancelled, .datadirInitialisationFailed, .spawnFailed: throw error
                default:
                    // The cache removed what it had copied; anything else at the datadir is the initialiser's to report.
                    progress(.datadirCacheUnavailable(reason: "\(error)"))
                }
            }
        }
        let command = adapter.initialisationCommand(initialiser: initialiser, layout: layout)
        progress(.initialisingDatadir(command))
        try await initialiseDatadir(command, layout: layout)
    }

    /// Runs the datadir initialiser in its own process group (torn down if the task is cancelled),
    /// keeping its output in `RUN/logs/datadir-init.log`. A failure removes the half-made datadir.
    static func initialiseDatadir(_ command: ProgramCommand, layout: ServerRunLayout) async throws(ServerError) {
        var platform = PlatformOptions()
        platform.processGroupID = 0
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(5)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
        ]
        let extraFile = command.arguments.contains("--extra-file=\(layout.initialisationSQL)")
        if extraFile {
            guard FileIO.writeFile(layout.initialisationSQL, contents: FlavorAdapter.initialisationSQL) else {
                throw .runDirectory(
                    path: layout.initialisationSQL,
                    reason: "cannot write the initialiser's SQL: \(String(cString: strerror(errno)))"
                )
            }
        }
        defer { if extraFile { unlink(layout.initialisationSQL) } }
        let output: String
        let exit: ProcessExit
        do {
            let result = try await Subprocess.run(
                .path(.init(command.executable)),
                arguments: Arguments(command.arguments),
                workingDirectory: .init(layout.serverDirectory),
                platformOptions: platform,
                input: .none,
                output: .string(limit: 1 << 20),
                error: .combinedWithOutput
            )
            output = result.standardOutput
            exit = ProcessExit(result.terminationStatus)
        } catch {
            FileIO.removeTree(layout.datadir)
            if Task.isCancelled { throw .cancelled }
            throw .spawnFailed(command: command.description, reason: "\(error)")
        }
        let logged = FileIO.readAll(layout.initialisationLog) ?? ""
        FileIO.writeFile(layout.initialisationLog, contents: logged + output)
        if Task.isCancelled {
            FileIO.removeTree(layout.datadir)
            throw .cancelled
        }
        if !exit.isSuccess {
            FileIO.removeTree(layout.datadir)
            let shown = LogTail.read(layout.initialisationLog, lines: 40).lines.joined(separator: "\n")
            throw .datadirInitialisationFailed(command: command.description, exit: exit, output: shown)
        }
        // The initialiser's shutdown dumped the list of pages its bootstrap touched. A server started on that
        // datadir would load them in a background thread: under valgrind every thread takes turns on one core,
        // so the load competes with the start (too little to measure here) and can still be running at the
        // first step. A fresh server needs none of them; InnoDB reads each page when a statement needs it.
        unlink(layout.datadir + "/" + bufferPoolDump)
    }

    /// InnoDB's buffer-pool dump in a datadir (`innodb_buffer_pool_filename`'s default).
    static let bufferPoolDump = "ib_buffer_pool"

    /// Starts a program (valgrind, or a server not profiled) in a new process group; a supervising task
    /// waits for its exit and records it.
    static func spawn(
        executable: String,
        arguments: [String],
        description: String,
        environment: [String: String],
        layout: ServerRunLayout,
        exitBox: ExitBox
    ) async throws(ServerError) -> (pid: Int32, supervisor: Task<ProcessExit, any Error>) {
        let console = open(layout.consoleLog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard console >= 0 else {
            throw .runDirectory(path: layout.consoleLog, reason: String(cString: strerror(errno)))
        }
        var platform = PlatformOptions()
        platform.processGroupID = 0
        // Used by Subprocess only if this supervising task is cancelled; snapctl's own stop comes first.
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(30)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(5)),
        ]
        var updates: [Environment.Key: String?] = [:]
        for (name, value) in environment { updates[Environment.Key(stringLiteral: name)] = value }
        let processEnvironment = Environment.inherit.updating(updates)
        let (pids, pidSink) = AsyncStream<Int32>.makeStream()
        let supervisor = Task<ProcessExit, any Error> {
            defer { pidSink.finish() }
            do {
                let result = try await Subprocess.run(
                    .path(.init(executable)),
                    arguments: Arguments(arguments),
                    environment: processEnvironment,
                    workingDirectory: .init(layout.serverDirectory),
                    platformOptions: platform,
                    input: .none,
                    output: .fileDescriptor(.init(rawValue: console), closeAfterSpawningProcess: true),
                    error: .combinedWithOutput
                ) { execution in
                    pidSink.yield(execution.processIdentifier.value)
                    pidSink.finish()
                }
                let exit = ProcessExit(result.terminationStatus)
                exitBox.set(exit)
                return exit
            } catch {
                // Not started (or no longer watchable): report it as an exit so no wait hangs.
                exitBox.set(.exited(127))
                throw error
            }
        }
        // Waited for in a task of its own: a cancelled caller must still learn the pid, to stop the server.
        let reported = await Task {
            var iterator = pids.makeAsyncIterator()
            return await iterator.next()
        }.value
        guard let pid = reported else {
            let reason: String
            switch await supervisor.result {
            case .failure(let error): reason = "\(error)"
            case .success(let exit): reason = "it ended with \(exit) before reporting its pid"
            }
            throw .spawnFailed(command: description, reason: reason)
        }
        return (pid, supervisor)
    }

    /// Polls until the socket accepts a connection, the process exits, the timeout passes, or the task is
    /// cancelled. Throws the matching ``ServerError``; the caller stops the server.
    static func waitUntilReady(
        pid: Int32,
        layout: ServerRunLayout,
        exitBox: ExitBox,
        timeout: Duration,
        started: ContinuousClock.Instant,
        underValgrind: Bool = true,
        keeping keptName: String? = nil,
        progress: @Sendable (LaunchProgress) -> Void
    ) async throws(ServerError) -> Connection? {
        var lastReport = started
        var attempt: ReadinessAttempt?
        // An attempt still waiting when this throws is given up: a connection it makes later is closed,
        // and one that waits for a greeting ends when the caller stops the server.
        defer { attempt?.abandon() }
        while true {
            if let exit = exitBox.value {
                throw .exitedDuringStartup(
                    pid: underValgrind ? pid : nil,
                    exit: exit,
                    errorLog: LogTail.read(layout.errorLog),
                    valgrindLog: LogTail.read(layout.valgrindLog + "", lines: 20).orConsole(layout.consoleLog)
                )
            }
            let now = ContinuousClock.now
            if now - started > timeout {
                throw .startupTimedOut(
                    seconds: timeout.seconds,
                    socket: layout.socket,
                    errorLog: LogTail(path: layout.errorLog, lines: []),
                    valgrindLog: LogTail(path: layout.valgrindLog, lines: [])
                )
            }
            if Task.isCancelled { throw .cancelled }
            if let current = attempt {
                switch current.poll() {
                case .connected(let probe):
                    attempt = nil
                    if keptName != nil { return probe }
                    await probe.close()
                    return nil
                case .failed: attempt = nil
                case .waiting: break
                }
            } else if FileIO.exists(layout.socket) {
                // A kept probe becomes the observer, so it has the observer's options: no read timeout.
                // The connector's connect timeout does not cover the server's greeting, so the attempt
                // runs apart from this loop, which goes on watching the timeout, the exit and Ctrl-C.
                attempt = ReadinessAttempt.start(
                    ConnectionOptions(
                        name: keptName ?? "snapctl-readiness",
                        target: .socket(path: layout.socket),
                        connectTimeoutSeconds: 5
                    )
                )
            }
            if now - lastReport >= .milliseconds(250) {
                progress(
                    .waiting(elapsed: now - started, lastLogLine: LogTail.read(layout.errorLog, lines: 1).lastLine)
                )
                lastReport = now
            }
            // A stat of the socket path every 5 ms costs nothing next to valgrind (and the other core is
            // idle while the server starts); the connection attempt only starts once the socket exists and
            // then waits for the server's first accept. While it waits, its result is looked at every
            // millisecond: the server is about to be ready.
            try? await Task.sleep(for: .milliseconds(attempt == nil ? 5 : 1))
        }
    }

    // MARK: - Using the server

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

    /// Waits until the valgrind process exits, however that happens, and returns how it ended.
    public nonisolated func waitForExit() async -> ProcessExit {
        switch await supervisor.result {
        case .success(let exit): return exit
        case .failure: return exitBox.value ?? .exited(127)
        }
    }

    /// Throws ``ServerError/serverDied(pid:exit:errorLog:valgrindLog:)`` if the server has exited
    /// without being asked to.
    public func checkAlive() throws(ServerError) {
        if shutdownTask == nil, let exit = exitBox.value { throw deathReport(exit) }
    }

    /// Turns an error from a connection into the real story: when the connection was lost because the
    /// server died, the death (exit status or signal, log tails) is what the user needs to see.
    ///
    /// Waits at most `grace` for the process to finish dying.
    public func explain(_ error: ServerError, grace: Duration = .seconds(5)) async -> ServerError {
        guard case .sql(let sqlError) = error, sqlError.isConnectionLost, shutdownTask == nil else { return error }
        guard let exit = await exitBox.wait(upTo: grace) else { return error }
        return deathReport(exit)
    }

    /// The error that reports the server's death, with the tails of its logs.
    public nonisolated func deathReport(_ exit: ProcessExit) -> ServerError {
        .serverDied(
            pid: valgrindPID,
            exit: exit,
            errorLog: LogTail.read(layout.errorLog),
            valgrindLog: LogTail.read(layout.valgrindLog)
        )
    }

    // MARK: - Stopping

    /// Stops the server: SQL `SHUTDOWN`, then SIGTERM, then SIGKILL of the process group, each with a
    /// bounded wait; then removes stale FIFOs, socket and pid file.
    ///
    /// Safe to call more than once and from several tasks: they share one shutdown. It runs to the end
    /// even if the calling task is cancelled (Ctrl-C must not leave a server behind).
    public func shutdown(timeouts: ShutdownTimeouts = ShutdownTimeouts()) async -> ShutdownOutcome {
        if let shutdownTask { return await shutdownTask.value }
        // What the session did not take: closed first, so that valgrind's exit waits for no vgdb reader.
        let (monitor, connection) = (takeStartupMonitor(), takeReadyConnection())
        await connection?.close()
        await monitor?.close()
        if let shutdownTask { return await shutdownTask.value }
        let (pid, pgid, exitBox, layout) = (valgrindPID, processGroupID, exitBox, layout)
        let task = Task {
            await ManagedServer.stop(
                pid: pid,
                pgid: pgid,
                exitBox: exitBox,
                layout: layout,
                sql: true,
                timeouts: timeouts
            )
        }
        shutdownTask = task
        return await task.value
    }

    /// Deletes the datadir once the server has stopped, so that the run directory stays small.
    public func removeDatadir() throws(ServerError) {
        guard exitBox.value != nil, !ProcessGroup.isAlive(processGroupID) else {
            throw .runDirectory(path: layout.datadir, reason: "the server is still running; shut it down first")
        }
        FileIO.removeTree(layout.datadir)
    }

    /// The stop sequence shared by ``shutdown(timeouts:)`` and a failed launch.
    static func stop(
        pid: Int32,
        pgid: Int32,
        exitBox: ExitBox,
        layout: ServerRunLayout,
        sql: Bool,
        timeouts: ShutdownTimeouts
    ) async -> ShutdownOutcome {
        let started = ContinuousClock.now
        var method = ShutdownOutcome.Method.alreadyExited
        var exit = exitBox.value
        if exit == nil && sql {
            method = .sqlShutdown
            await Task.detached {
                let options = ConnectionOptions(
                    name: "snapctl-shutdown",
                    target: .socket(path: layout.socket),
                    connectTimeoutSeconds: 5,
                    readTimeoutSeconds: 10
                )
                if let connection = try? await Connection.connect(options) {
                    _ = try? await connection.execute("SHUTDOWN")
                    await connection.close()
                }
            }.value
            exit = await exitBox.wait(upTo: timeouts.sqlShutdown)
        }
        if exit == nil {
            method = .sigterm
            ProcessGroup.signal(pgid, SIGTERM)
            exit = await exitBox.wait(upTo: timeouts.sigterm)
        }
        if exit == nil {
            method = .sigkill
            ProcessGroup.signal(pgid, SIGKILL)
            exit = await exitBox.wait(upTo: timeouts.sigkill)
            if exit == nil { method = .stillRunning }
        }
        // The leader is gone; anything else in its group is an orphan.
        await ProcessGroup.killRemnants(pgid, upTo: timeouts.sigkill)
        var removed = VgdbEndpoint.removeStale(pid: pid, prefix: layout.vgdbPrefix)
        if pid != pgid { removed += VgdbEndpoint.removeStale(pid: pgid, prefix: layout.vgdbPrefix) }
        for path in [layout.socket, layout.pidFile] where FileIO.exists(path) {
            unlink(path)
            removed.append(path)
        }
        return ShutdownOutcome(
            method: method,
            exit: exit,
            massifFinalFile: layout.massifFinalFile,
            massifFinalFilePresent: (FileIO.size(layout.massifFinalFile) ?? 0) > 0,
            processGroupGone: !ProcessGroup.isAlive(pgid),
            removedStaleFiles: removed,
            seconds: (ContinuousClock.now - started).seconds
        )
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension LogTail {
    /// This tail, or the console log's when this one is empty (valgrind prints option errors to stderr
    /// before it opens `--log-file`).
    func orConsole(_ consoleLog: String) -> LogTail {
        if !lines.isEmpty { return self }
        let console = LogTail.read(consoleLog)
        return console.lines.isEmpty ? self : console
    }
}

/// One readiness connection attempt, run in a task of its own so that whoever waits for it can still
/// give up; a connection that arrives after that is closed.
final class ReadinessAttempt: Sendable {
    enum Poll: Sendable {
        case waiting
        case connected(Connection)
        case failed
    }

    private enum State: Sendable {
        case waiting
        case connected(Connection)
        case failed
        case done
    }

    private let state = Mutex<State>(.waiting)

    /// Starts connecting with `options`.
    static func start(_ options: ConnectionOptions) -> ReadinessAttempt {
        let attempt = ReadinessAttempt()
        Task.detached {
            guard let connection = try? await Connection.connect(options) else {
                attempt.state.withLock { if case .waiting = $0 { $0 = .failed } }
                return
            }
            let kept = attempt.state.withLock { state -> Bool in
                guard case .waiting = state else { return false }
                state = .connected(connection)
                return true
            }
            if !kept { await connection.close() }
        }
        return attempt
    }

    /// The attempt's result once it has one (handed out once), or `.waiting`.
    func poll() -> Poll {
        state.withLock { state in
            switch state {
            case .waiting, .done: return .waiting
            case .failed:
                state = .done
                return .failed
            case .connected(let connection):
                state = .done
                return .connected(connection)
            }
        }
    }

    /// Gives the attempt up; a connection it made and nobody took is closed.
    func abandon() {
        let left = state.withLock { state -> Connection? in
            defer { state = .done }
            if case .connected(let connection) = state { return connection }
            return nil
        }
        if let left { Task.detached { await left.close() } }
    }
}
