import Valgrind

/// The server's command-line options: snapctl's first, then the user's, so the user can override ours
/// (the server keeps the last occurrence of an option).
public struct ServerFlags: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The options snapctl needs (private datadir and socket, workarounds, small buffers).
    public var ours: [String]
    /// The plan's `server.options`.
    public var user: [String]

    /// Creates flags from both parts.
    public init(ours: [String], user: [String]) {
        self.ours = ours
        self.user = user
    }

    /// Every option, in order.
    public var arguments: [String] { ours + user }

    public var description: String {
        arguments.map(ValgrindCommand.shellQuote).joined(separator: " ")
    }
}

/// How one flavour initialises a datadir and which options it runs with.
///
/// MariaDB uses `mariadb-install-db`, MySQL `mysqld --initialize-insecure`. Only MariaDB is installed
/// on our machines; the MySQL command lines are checked as values.
public struct FlavorAdapter: Sendable, Hashable, Codable {
    /// The server binary and its flavour and version.
    public var binary: ServerBinary
    /// Whether snapctl runs as root: mariadbd and mysqld then refuse to start without `--user=root`.
    public var runningAsRoot: Bool
    /// The InnoDB buffer pool: small, because under Massif every page is heap and the datadir is
    /// part of the bundle.
    public var bufferPoolSize: String
    /// The redo log size (`innodb_log_file_size` / `innodb_redo_log_capacity`): small, to keep the
    /// datadir small.
    public var redoLogSize: String

    /// Creates an adapter for `binary`.
    public init(binary: ServerBinary, runningAsRoot: Bool, bufferPoolSize: String = "32M", redoLogSize: String = "8M") {
        self.binary = binary
        self.runningAsRoot = runningAsRoot
        self.bufferPoolSize = bufferPoolSize
        self.redoLogSize = redoLogSize
    }

    public var flavor: ServerFlavor { binary.flavor }

    /// The name of the datadir initialiser this flavour uses.
    public var initialiserName: String {
        switch flavor {
        case .mariadb: return "mariadb-install-db"
        case .mysql: return "mysqld"
        }
    }

    /// MySQL 8.0.30 replaced `innodb_log_file_size` with `innodb_redo_log_capacity`.
    private var redoLogOption: String {
        if flavor == .mysql && binary.version >= ServerVersion(8, 0, 30) {
            return "--innodb-redo-log-capacity=\(redoLogSize)"
        }
        return "--innodb-log-file-size=\(redoLogSize)"
    }

    /// What the initialiser runs after its own SQL (`--extra-file`, written by `initialiseDatadir`).
    ///
    /// With `--auth-root-authentication-method=normal`, MariaDB's initialiser makes passwordless roots with
    /// every privilege: `localhost` (the socket snapctl uses), `127.0.0.1`, `::1` and the machine's host
    /// name. The network accounts serve snapctl nothing, and a server that listens, like a replica's primary
    /// on the loopback address, would let any local user in as root through them. Bootstrap SQL edits the
    /// grant tables directly, as the initialiser's own does.
    public static let initialisationSQL = """
        DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
        DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host <> 'localhost';

        """

    /// Whether the initialisation removes root's network accounts: MariaDB from 10.4, whose grants live
    /// in `mysql.global_priv`. MySQL's `--initialize-insecure` makes `root@localhost` only.
    var removesNetworkRoot: Bool { flavor == .mariadb && binary.version >= ServerVersion(10, 4) }

    /// The command that creates an empty datadir with a passwordless root (on the socket only).
    ///
    /// - Parameter initialiser: the path of `mariadb-install-db` (MariaDB); ignored for MySQL, which
    ///   initialises with the server binary itself.
    public func initialisationCommand(initialiser: String, layout: ServerRunLayout) -> ProgramCommand {
        let user = runningAsRoot ? ["--user=root"] : []
        switch flavor {
        case .mariadb:
            return ProgramCommand(
                executable: initialiser,
                arguments: ["--no-defaults", "--datadir=\(layout.datadir)", "--tmpdir=\(layout.tmpdir)"] + user + [
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                    redoLogOption,
                    "--innodb-buffer-pool-size=\(bufferPoolSize)",
                ] + (removesNetworkRoot ? ["--extra-file=\(layout.initialisationSQL)"] : [])
            )
        case .mysql:
            return ProgramCommand(
                executable: binary.path,
                arguments: [
                    "--no-defaults", "--initialize-insecure", "--datadir=\(layout.datadir)",
                    "--tmpdir=\(layout.tmpdir)",
                ] + user + [
                    redoLogOption,
                    "--innodb-buffer-pool-size=\(bufferPoolSize)",
                    "--log-error=\(layout.initialisationLog)",
                ]
            )
        }
    }

    /// The value of the last `--NAME=VALUE` (also `--loose-NAME`, and `_` for `-`) among `options`.
    static func userValue(of name: String, in options: [String]) -> String? {
        var found: String?
        for option in options {
            guard option.hasPrefix("--"), let equals = option.firstIndex(of: "=") else { continue }
            var key = String(option[option.index(option.startIndex, offsetBy: 2)..<equals].map { $0 == "_" ? "-" : $0 })
            if key.hasPrefix("loose-") { key.removeFirst("loose-".count) }
            if key == name { found = String(option[option.index(after: equals)...]) }
        }
        return found
    }

    /// Valgrind's `--max-threads` for this server: the threads it may run at once, from its options,
    /// or `nil` when the user set `--max-threads` in the Massif options.
    ///
    /// Why: every snapshot that vgdb forces through ptrace (the server is idle between steps) first
    /// reads the state of every thread slot valgrind has, one ptrace word at a time; with valgrind's
    /// default of 500 slots that is about 2 ms of each labelled snapshot. The server can run at most its
    /// connections (`max_connections` + `extra_max_connections`), its replication workers
    /// (`slave_parallel_threads`), InnoDB's I/O and purge threads and its thread pool, which grows with
    /// the CPU count; 64 more cover the rest (signal handler, timer, page cleaner, event scheduler). A
    /// server that needs more stops with valgrind's "Use --max-threads" message in valgrind.log; a plan
    /// raises it with `massif: {options: [--max-threads=N]}`.
    /// The most thread slots snapctl asks valgrind for, whatever the server's options say.
    public static let maxThreadsLimit = 4096

    public static func maxThreads(serverOptions: [String], massifOptions: [String], processors: Int) -> Int? {
        if massifOptions.contains(where: { $0.hasPrefix("--max-threads=") }) { return nil }
        func value(_ name: String, _ fallback: Int) -> Int {
            userValue(of: name, in: serverOptions).flatMap { Int($0) }.map { max(0, min($0, 100_000)) } ?? fallback
        }
        let connections = value("max-connections", 151) + value("extra-max-connections", 1) + 1
        let replication =
            max(value("slave-parallel-threads", 0), value("replica-parallel-threads", 0))
            + 2
        let innodb =
            value("innodb-read-io-threads", 4) + value("innodb-write-io-threads", 4)
            + value("innodb-purge-threads", 4) + 4 * max(1, min(processors, 1024))
        // Valgrind allocates its thread table up front: a plan (or a bundle) naming a huge connection
        // count must not make it reserve gigabytes. Far more threads than valgrind can run usefully.
        return min(connections + replication + innodb + 64, maxThreadsLimit)
    }

    /// Valgrind options that shorten the server's start at no cost to what its snapshots show, given
    /// the server binary's symbols, valgrind's release and the user's Massif options (an option the user
    /// set is left alone).
    ///
    /// `--read-inline-info=no` when the server has no DWARF (stripped, debug file not installed): valgrind
    /// then reads inline information only for the C library's debug files, about 0.3 s of every start,
    /// and it would name only frames inside the C library, never the server's. With the server's debug
    /// information installed, its inlined functions are worth that time and the default is kept.
    ///
    /// `--vex-guest-chase=no` (valgrind 3.17 and later): the translator then ends each block at an
    /// unconditional jump instead of following it into the same translation. A server's start is
    /// dominated by translating code it runs once (about 40,000 blocks for MariaDB 10.11), and shorter
    /// translations made the start about 0.35 s (13%) cheaper in CPU on our machines, while a warm server
    /// answered queries as fast as with the default. It changes how guest code is cut into blocks, never
    /// what the guest does, what it allocates or the stacks Massif records.
    public static func startOptions(
        serverHasDWARF: Bool,
        valgrind: ValgrindVersion,
        massifOptions: [String]
    ) -> [String] {
        var options: [String] = []
        if !serverHasDWARF && !massifOptions.contains(where: { $0.hasPrefix("--read-inline-info=") }) {
            options.append("--read-inline-info=no")
        }
        if valgrind >= ValgrindVersion(3, 17) && !massifOptions.contains(where: { $0.hasPrefix("--vex-guest-chase") }) {
            options.append("--vex-guest-chase=no")
        }
        return options
    }

    /// The valgrind option that holds the server at its first instruction until vgdb connects.
    public static let stopAtStartupOption = "--vgdb-stop-at=startup"

    /// Whether a launch may hold the server at startup: not when the user chose where vgdb stops, nor
    /// when vgdb is off (nothing could let the server run).
    public static func canStopAtStartup(massifOptions: [String]) -> Bool {
        !massifOptions.contains { $0.hasPrefix("--vgdb-stop-at") || $0 == "--vgdb=no" }
    }

    /// Whether the user's own valgrind options hold the server at its first instruction until a vgdb
    /// client connects: a `--vgdb-stop-at` list naming `startup` (or `all`), or `--vgdb-error=0`, with vgdb
    /// on. valgrind takes the last of a repeated option. Such a server never gets ready by itself, and in a
    /// session snapctl's monitor is the only client vgdb lets in, so the launch connects it at startup as it
    /// does for its own hold.
    public static func userStopsAtStartup(massifOptions: [String]) -> Bool {
        var stopAt: [Substring] = []
        var errorsBeforeGDB: Substring?
        var vgdb: Substring = "yes"
        for option in massifOptions {
            guard let equals = option.firstIndex(of: "=") else { continue }
            let value = option[option.index(after: equals)...]
            switch option[..<equals] {
            case "--vgdb-stop-at": stopAt = value.split(separator: ",")
            case "--vgdb-error": errorsBeforeGDB = value
            case "--vgdb": vgdb = value
            default: break
            }
        }
        guard vgdb != "no" else { return false }
        return stopAt.contains("startup") || stopAt.contains("all") || errorsBeforeGDB == "0"
    }

    /// The server's options for a private, socket-only server in `layout`.
    ///
    /// Workarounds (docs/architecture.md, "Valgrind, vgdb and MariaDB"): `--innodb-use-native-aio=0` below valgrind 3.23 (MariaDB
    /// otherwise hangs in io_uring); a 1 MiB temporary tablespace to start with; a small `innodb-buffer-pool-size-max` (MariaDB otherwise reserves
    /// 8 TiB of address space and aborts under valgrind), given with `--loose-` so that releases without
    /// the option only warn. MySQL also gets `--mysqlx=OFF` (no X protocol port or `/tmp` socket) and
    /// `--skip-log-bin` (no binary logs in the bundle).
    public func serverFlags(layout: ServerRunLayout, valgrind: ValgrindVersion, userOptions: [String]) -> ServerFlags {
        var ours = [
            "--no-defaults",
            "--datadir=\(layout.datadir)",
            "--tmpdir=\(layout.tmpdir)",
            "--socket=\(layout.socket)",
            "--pid-file=\(layout.pidFile)",
            "--log-error=\(layout.errorLog)",
            "--skip-networking",
        ]
        if runningAsRoot { ours.append("--user=root") }
        ours.append("--innodb-buffer-pool-size=\(bufferPoolSize)")
        ours.append(redoLogOption)
        switch flavor {
        case .mariadb:
            // The largest pool the server may grow to is the pool the user asks for: a larger
            // `--innodb-buffer-pool-size` than the maximum would be cut down to it.
            let poolMax = Self.userValue(of: "innodb-buffer-pool-size", in: userOptions) ?? bufferPoolSize
            ours.append("--loose-innodb-buffer-pool-size-max=\(poolMax)")
            // The temporary tablespace is written full at every start (12 MiB by default, a loop of
            // writes under valgrind); it grows on demand, so starting it at 1 MiB changes no figure.
            ours.append("--innodb-temp-data-file-path=ibtmp1:1M:autoextend")
            if valgrind < ValgrindInstallation.firstReleaseWithWorkingIOUring {
                ours.append("--innodb-use-native-aio=0")
            }
        case .mysql:
            ours += ["--mysqlx=OFF", "--skip-log-bin"]
        }
        return ServerFlags(ours: ours, user: userOptions)
    }
}
