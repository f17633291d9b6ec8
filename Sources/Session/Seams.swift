import MySQLServer
import Plan
import RunRecord
import Valgrind

/// The server a run profiles, as the engine sees it: a pid and a vgdb prefix for the monitor,
/// connections, and a way to tell that it died and to stop it.
///
/// The engine never asks whether the server was started or attached to; the two real kinds
/// (``ManagedProfile``, ``AttachedProfile``) answer for themselves, and unit tests put a scripted server
/// here. A second server (a replica) is one more value of this type.
protocol ProfiledServer: Sendable {
    /// The valgrind process id vgdb talks to.
    var pid: Int32 { get }
    /// The prefix of the vgdb FIFOs.
    var vgdbPrefix: String { get }
    /// The socket path shell steps get as `SNAPCTL_SOCKET` (empty over TCP).
    var socketPath: String { get }
    /// What the manifest records of the server once it is up.
    var info: RunManifest.ServerInfo { get }
    /// The user and password that stand for the plan's default user (an attached server's credentials);
    /// `nil` when connections use their own.
    var defaultCredentials: Credentials? { get }
    /// What the run should say about the server once it is up (its allocators, say): warnings and log
    /// lines.
    var startNotes: [StartNote] { get }

    /// Opens a connection as `user`.
    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> any SQLSession
    /// Opens the observer connection (counters, `KILL QUERY`).
    func connectObserver() async throws(ServerError) -> any SQLSession
    /// The vgdb monitor the server's start already opened, if any (taken once); otherwise the engine
    /// connects one.
    func takeStartupMonitor() async -> (any HeapMonitor)?
    /// The real story behind a connection error: a dead server is reported as such.
    func explain(_ error: ServerError) async -> ServerError
    /// Why the server is gone, or `nil` while it runs.
    func death() async -> String?
    /// Returns once the process has ended, or when the calling task is cancelled.
    func waitForExit() async
    /// Stops the server if snapctl started it; says how, and what could not be cleaned up.
    func stop() async -> ServerStop
}

extension ProfiledServer {
    func takeStartupMonitor() async -> (any HeapMonitor)? { nil }
}

/// Something to record about a server that started.
enum StartNote: Sendable, Hashable {
    /// A problem the user should see; kept in the manifest's warnings.
    case warning(String)
    /// A line for the run log.
    case log(String)
}

/// The credentials of an attached server.
struct Credentials: Sendable, Hashable {
    var user: String
    var password: String?
}

/// How the server was left at the end of a run.
struct ServerStop: Sendable, Hashable {
    /// How it was shut down (`sql_shutdown`, `sigterm`, ...); `nil` for a server snapctl did not start.
    var shutdown: String?
    /// Problems met while cleaning up, for the manifest's warnings.
    var warnings: [String] = []
    /// Whether Massif was expected to write its final file (only a server snapctl stopped does).
    var expectsMassifFinal: Bool = false
}

/// Massif's monitor commands as the engine uses them, through the kept-open vgdb relay.
///
/// ``MonitorSession`` is the real one; unit tests write snapshot files of their own. A lens that dumps
/// more per step (an xtree, all snapshots) adds a method here and a call in ``Snapshotter``.
protocol HeapMonitor: Sendable {
    /// Writes a snapshot of `kind` to `path`.
    func snapshot(_ kind: SnapshotKind, to path: String) async throws(ValgrindError)
    /// Writes an xtree memory dump to `path` (`xtmemory`; Massif's format since the path ends in `.ms`). Needs a
    /// server started with `--xtree-memory=full`.
    func xtmemory(to path: String) async throws(ValgrindError)
    /// Runs any monitor command and returns its output, whatever it says (the REPL's `monitor`).
    func command(_ text: String) async throws(ValgrindError) -> String
    /// Detaches; the process runs on.
    func close() async
}

extension MonitorSession: HeapMonitor {
    func snapshot(_ kind: SnapshotKind, to path: String) async throws(ValgrindError) {
        switch kind {
        case .light: try await snapshot(to: path)
        case .detailed: try await detailedSnapshot(to: path)
        }
    }

    func command(_ text: String) async throws(ValgrindError) -> String {
        try await unchecked(text)
    }
}

/// Every effect the engine has on the world outside the run directory: starting (or attaching to) the
/// server and opening the monitor. The default is the real thing; unit tests pass fakes, so that the
/// step, outcome and exit-status rules run without valgrind.
struct SessionEffects: Sendable {
    /// What starting needs besides the plan.
    struct StartRequest: Sendable {
        var target: Plan.Target
        var massif: Plan.MassifSettings
        /// Some step asks for the allocated lens: the server runs with `--xtree-memory=full` (an attached one
        /// must have been started with it).
        var xtreeMemory: Bool = false
        var runDirectory: String
        var searchPath: String?
        var environment: [String: String]?
        var progress: @Sendable (LaunchProgress) -> Void
        /// Set when the server is the replica of a primary snapctl started: it then gets a server id of its
        /// own and a private place for its connection settings.
        var isReplica: Bool = false
    }

    /// What starting a primary needs besides the plan.
    struct PrimaryRequest: Sendable {
        var primary: Plan.Primary
        var runDirectory: String
        var searchPath: String?
        var environment: [String: String]?
    }

    /// Starts or attaches to the server the request names.
    var startServer: @Sendable (StartRequest) async -> Result<any ProfiledServer, ServerError>
    /// Opens the monitor on a valgrind pid.
    var connectMonitor: @Sendable (_ pid: Int32, _ prefix: String) async -> Result<any HeapMonitor, ValgrindError>
    /// Generates the replication user's password (tests pass a known one, to look for it in the run).
    var replicationPassword: @Sendable () -> String = { Replication.generatePassword() }
    /// Starts (or connects to) the primary of a profiled replica.
    var startPrimary: @Sendable (PrimaryRequest) async -> Result<any PrimaryServer, ServerError> = { request in
        await ServerProfiles.startPrimary(request)
    }

    /// The real server and the real vgdb.
    static let live = SessionEffects(
        startServer: { request in await ServerProfiles.start(request) },
        connectMonitor: { pid, prefix in
            do throws(ValgrindError) {
                return .success(try await MonitorSession.connect(pid: pid, prefix: prefix))
            } catch {
                return .failure(error)
            }
        }
    )
}
