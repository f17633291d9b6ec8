/// Where a managed server keeps its files inside a run directory.
///
/// `RUN/server/` (mode 0700) holds the datadir, socket, pid file and vgdb FIFOs; Massif's final file and
/// the logs sit where the run record expects them, so the run directory is the bug-report bundle.
public struct ServerRunLayout: Sendable, Hashable, Codable {
    /// The run directory, created by the caller.
    public var runDirectory: String
    /// Which server of the run this is: `server` (the profiled one) or `primary` (the server a profiled
    /// replica replicates from). It names the private directory and the logs.
    public var role: String

    /// The profiled server's role.
    public static let profiledRole = "server"
    /// The primary's role.
    public static let primaryRole = "primary"

    /// Creates the layout of `runDirectory` (a trailing slash is ignored).
    public init(runDirectory: String, role: String = ServerRunLayout.profiledRole) {
        var directory = runDirectory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        self.runDirectory = directory
        self.role = role
    }

    /// The prefix of the logs of a server other than the profiled one (`primary.`), empty for it.
    private var logPrefix: String { role == Self.profiledRole ? "" : role + "." }

    /// `RUN/server` (`RUN/primary`): private to the user (0700), because the socket accepts root without a
    /// password.
    public var serverDirectory: String { runDirectory + "/" + role }
    /// `RUN/server/data`.
    public var datadir: String { serverDirectory + "/data" }
    /// `RUN/server/tmp`: the server's `--tmpdir`. MariaDB deletes every `#sql*` file in its tmpdir when it
    /// starts (`mysql_rm_tmp_tables`), so servers sharing `/tmp` break each other's temporary tables (the
    /// initialiser's `mysql.tmp_user_sys`, information_schema queries).
    public var tmpdir: String { serverDirectory + "/tmp" }
    /// `RUN/server/mysqld.sock`.
    public var socket: String { serverDirectory + "/mysqld.sock" }
    /// `RUN/server/mysqld.pid`: mariadbd writes its pid, which is valgrind's pid.
    public var pidFile: String { serverDirectory + "/mysqld.pid" }
    /// `RUN/server/vgdb`: the `--vgdb-prefix`; FIFOs are `RUN/server/vgdb-from-vgdb-to-<pid>-by-...`.
    public var vgdbPrefix: String { serverDirectory + "/vgdb" }
    /// `RUN/massif.final.out`: Massif's end-of-run file.
    public var massifFinalFile: String { runDirectory + "/massif.final.out" }
    /// `RUN/logs`.
    public var logsDirectory: String { runDirectory + "/logs" }
    /// `RUN/logs/server.err`: the server's `--log-error`.
    public var errorLog: String { logsDirectory + "/" + (role == Self.profiledRole ? "server" : role) + ".err" }
    /// `RUN/logs/valgrind.log`: valgrind's `--log-file`.
    public var valgrindLog: String {
        // A server not run under valgrind has no valgrind log: its console stands in for it.
        role == Self.profiledRole ? logsDirectory + "/valgrind.log" : consoleLog
    }
    /// `RUN/logs/server.console`: the valgrind process's stdout and stderr, which catch what is printed
    /// before `--log-file` is open (a bad valgrind option, a missing program).
    public var consoleLog: String {
        logsDirectory + "/" + (role == Self.profiledRole ? "server" : role) + ".console"
    }
    /// `RUN/logs/datadir-init.log`: the output of the datadir initialiser.
    public var initialisationLog: String { logsDirectory + "/" + logPrefix + "datadir-init.log" }
    /// SQL the initialiser runs after its own (see `FlavorAdapter.initialisationSQL`); there only while it runs.
    public var initialisationSQL: String { serverDirectory + "/initialise.sql" }

    /// The longest unix socket path Linux accepts: `sizeof(sockaddr_un.sun_path)` (108) minus the NUL.
    public static let maximumSocketPathLength = 107

    /// Refuses a layout whose socket path does not fit in `sun_path`, before anything is started.
    public func validate() throws(ServerError) {
        let length = socket.utf8.count
        if length > Self.maximumSocketPathLength {
            throw .socketPathTooLong(path: socket, length: length, limit: Self.maximumSocketPathLength)
        }
    }
}
