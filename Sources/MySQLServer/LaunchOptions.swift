import Valgrind

/// What to launch: a throwaway server in a run directory, under Massif.
public struct LaunchOptions: Sendable, Hashable {
    /// The run directory (created by the caller); see ``ServerRunLayout``.
    public var runDirectory: String
    /// The server binary: a name on `PATH` (plus `/usr/sbin`) or a path.
    public var serverBinary: String
    /// The flavour; `nil` reads it from `--version`.
    public var flavor: ServerFlavor?
    /// Server options from the plan; they come after snapctl's, so they can override them.
    public var serverOptions: [String]
    /// Massif options from the plan (`--depth=40`, `--time-unit=B`); they come after snapctl's.
    public var massifOptions: [String]
    /// How long the server may take to accept a connection.
    public var startupTimeout: Duration
    /// The InnoDB buffer pool size given to the server.
    public var bufferPoolSize: String
    /// A `PATH` to search instead of the process's own (tests use it to hide valgrind).
    public var searchPath: String?
    /// Variables added to the server's environment (`server.env` of the plan), e.g. `LD_PRELOAD`.
    public var environment: [String: String]
    /// Where initialised datadirs are cached (`DatadirCache`); by default the user's cache directory.
    public var datadirCache: DatadirCacheSetting = .automatic
    /// Whether the caller takes the launch's connections (``ManagedServer/takeStartupMonitor()``,
    /// ``ManagedServer/takeReadyConnection()``): valgrind then waits at the server's first instruction
    /// while the datadir is copied and the vgdb monitor connects, and the readiness probe is kept as the
    /// observer. What is not taken is closed at shutdown.
    public var keepsConnections = false

    /// Creates launch options; the defaults start the embedded MariaDB.
    public init(
        runDirectory: String,
        serverBinary: String = "mariadbd",
        flavor: ServerFlavor? = nil,
        serverOptions: [String] = [],
        massifOptions: [String] = [],
        startupTimeout: Duration = .seconds(120),
        bufferPoolSize: String = "32M",
        searchPath: String? = nil,
        environment: [String: String] = [:]
    ) {
        self.runDirectory = runDirectory
        self.serverBinary = serverBinary
        self.flavor = flavor
        self.serverOptions = serverOptions
        self.massifOptions = massifOptions
        self.startupTimeout = startupTimeout
        self.bufferPoolSize = bufferPoolSize
        self.searchPath = searchPath
        self.environment = environment
    }
}

/// What a launch is doing, for the CLI to render (a spinner, elapsed time, the error log's last line).
///
/// The module does not assume a terminal; it reports events and the caller decides how to show them.
public enum LaunchProgress: Sendable, Hashable {
    /// The server binary was identified.
    case identified(ServerBinary, valgrind: ValgrindVersion)
    /// The datadir is being initialised with this command.
    case initialisingDatadir(ProgramCommand)
    /// An existing datadir is reused.
    case reusingDatadir(path: String)
    /// The datadir was copied from the datadir cache (after building or rebuilding the entry, if it says so).
    case datadirFromCache(CachedDatadir)
    /// The datadir cache could not be used (the reason); the datadir is initialised in the run instead.
    case datadirCacheUnavailable(reason: String)
    /// A malloc replacement was found; `option` is the `--soname-synonyms` snapctl added for it (`nil`
    /// when the user's Massif options set one, or the allocator is unknown).
    case allocator(AllocatorDetection, option: String?)
    /// valgrind was started with this command line.
    case started(ValgrindCommand, pid: Int32)
    /// Still waiting for the socket to accept a connection (about four times a second).
    case waiting(elapsed: Duration, lastLogLine: String?)
    /// The server accepted a connection.
    case ready(elapsed: Duration)
}
