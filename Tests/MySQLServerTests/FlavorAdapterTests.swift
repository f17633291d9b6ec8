import Testing
import Valgrind

@testable import MySQLServer

@Suite("Server flavours, versions and flags")
struct FlavorAdapterTests {
    let layout = ServerRunLayout(runDirectory: "/r/")
    let mariadb = ServerBinary(
        path: "/usr/sbin/mariadbd",
        flavor: .mariadb,
        version: ServerVersion(10, 11, 19),
        versionLine: "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1"
    )
    let mysql = ServerBinary(
        path: "/usr/sbin/mysqld",
        flavor: .mysql,
        version: ServerVersion(8, 0, 36),
        versionLine: "/usr/sbin/mysqld  Ver 8.0.36"
    )

    @Test(
        "--version output gives flavour and version",
        arguments: [
            (
                "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n",
                ServerFlavor.mariadb, ServerVersion(10, 11, 19)
            ),
            (
                "/usr/sbin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", .mysql,
                ServerVersion(8, 0, 36)
            ),
            (
                "/usr/sbin/mysqld  Ver 5.7.44 for Linux on x86_64 (MySQL Community Server (GPL))", .mysql,
                ServerVersion(5, 7, 44)
            ),
            ("mysqld  Ver 11.4.2-MariaDB-log for Linux on x86_64 (MariaDB Server)", .mariadb, ServerVersion(11, 4, 2)),
        ]
    )
    func versionOutput(output: String, flavor: ServerFlavor, version: ServerVersion) throws {
        let parsed = try #require(ServerBinary.parseVersionOutput(output))
        #expect(parsed.flavor == flavor)
        #expect(parsed.version == version)
    }

    @Test(
        "output that is not a server's is refused",
        arguments: ["", "bash: mysqld: not found", "Ver", "mysqld Ver x.y"]
    )
    func versionGarbage(output: String) {
        #expect(ServerBinary.parseVersionOutput(output) == nil)
    }

    @Test("the run layout puts the server's files under RUN/server and the logs under RUN/logs")
    func runLayout() {
        #expect(layout.runDirectory == "/r")
        #expect(layout.datadir == "/r/server/data")
        #expect(layout.socket == "/r/server/mysqld.sock")
        #expect(layout.pidFile == "/r/server/mysqld.pid")
        #expect(layout.vgdbPrefix == "/r/server/vgdb")
        #expect(layout.massifFinalFile == "/r/massif.final.out")
        #expect(layout.errorLog == "/r/logs/server.err")
        #expect(layout.valgrindLog == "/r/logs/valgrind.log")
    }

    @Test("MariaDB under valgrind 3.19 as root gets the io_uring and buffer-pool workarounds and --user=root")
    func mariadbFlagsOldValgrind() {
        let adapter = FlavorAdapter(binary: mariadb, runningAsRoot: true)
        let flags = adapter.serverFlags(
            layout: layout,
            valgrind: ValgrindVersion(3, 19, 0),
            userOptions: ["--sort-buffer-size=64M"]
        )
        #expect(
            flags.arguments == [
                "--no-defaults", "--datadir=/r/server/data", "--tmpdir=/r/server/tmp", "--socket=/r/server/mysqld.sock",
                "--pid-file=/r/server/mysqld.pid", "--log-error=/r/logs/server.err", "--skip-networking", "--user=root",
                "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--loose-innodb-buffer-pool-size-max=32M",
                "--innodb-temp-data-file-path=ibtmp1:1M:autoextend", "--innodb-use-native-aio=0",
                "--sort-buffer-size=64M",
            ]
        )
        #expect(flags.user == ["--sort-buffer-size=64M"])
        #expect(flags.arguments.first == "--no-defaults")
    }

    @Test("valgrind 3.23 needs no native-AIO workaround; a non-root user gets no --user")
    func mariadbFlagsNewValgrind() {
        let adapter = FlavorAdapter(binary: mariadb, runningAsRoot: false)
        let flags = adapter.serverFlags(layout: layout, valgrind: ValgrindVersion(3, 23, 0), userOptions: [])
        #expect(!flags.arguments.contains("--innodb-use-native-aio=0"))
        #expect(!flags.arguments.contains("--user=root"))
        #expect(flags.arguments.contains("--loose-innodb-buffer-pool-size-max=32M"))
    }

    @Test("the user's options come after ours, so the user's value wins")
    func userOverrides() {
        let adapter = FlavorAdapter(binary: mariadb, runningAsRoot: true)
        let flags = adapter.serverFlags(
            layout: layout,
            valgrind: ValgrindVersion(3, 19, 0),
            userOptions: ["--innodb-buffer-pool-size=128M"]
        )
        let positions = flags.arguments.indices.filter { flags.arguments[$0].hasPrefix("--innodb-buffer-pool-size=") }
        #expect(positions.count == 2)
        #expect(flags.arguments[positions[1]] == "--innodb-buffer-pool-size=128M")
    }

    @Test(
        "MariaDB initialises with mariadb-install-db, a passwordless root on the socket only, no test db and a small redo log"
    )
    func mariadbInitialisation() {
        let adapter = FlavorAdapter(binary: mariadb, runningAsRoot: true)
        let command = adapter.initialisationCommand(initialiser: "/usr/bin/mariadb-install-db", layout: layout)
        #expect(command.executable == "/usr/bin/mariadb-install-db")
        #expect(
            command.arguments == [
                "--no-defaults", "--datadir=/r/server/data", "--tmpdir=/r/server/tmp", "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db", "--skip-name-resolve", "--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M",
                "--extra-file=/r/server/initialise.sql",
            ]
        )
        #expect(adapter.initialiserName == "mariadb-install-db")
        // The extra SQL removes root's network accounts, in both grant tables that hold them.
        for table in ["mysql.global_priv", "mysql.proxies_priv"] {
            let statement = "DELETE FROM \(table) WHERE User = 'root' AND Host <> 'localhost';"
            #expect(FlavorAdapter.initialisationSQL.contains(statement))
        }
        // Before 10.4 the grants live in mysql.user, and there is no global_priv to edit.
        var old = mariadb
        old.version = ServerVersion(10, 3, 39)
        let before = FlavorAdapter(binary: old, runningAsRoot: true)
        #expect(
            !before.initialisationCommand(initialiser: "i", layout: layout).arguments.contains {
                $0.hasPrefix("--extra-file")
            }
        )
    }

    @Test("MySQL 8.0.30+ initialises with mysqld --initialize-insecure and a small redo log capacity")
    func mysqlInitialisation() {
        let adapter = FlavorAdapter(binary: mysql, runningAsRoot: true)
        let command = adapter.initialisationCommand(initialiser: "ignored", layout: layout)
        #expect(command.executable == "/usr/sbin/mysqld")
        #expect(
            command.arguments == [
                "--no-defaults", "--initialize-insecure", "--datadir=/r/server/data", "--tmpdir=/r/server/tmp",
                "--user=root",
                "--innodb-redo-log-capacity=8M", "--innodb-buffer-pool-size=32M",
                "--log-error=/r/logs/datadir-init.log",
            ]
        )
        #expect(command.description.hasPrefix("/usr/sbin/mysqld --no-defaults --initialize-insecure"))
    }

    @Test("MySQL before 8.0.30 sizes the redo log with innodb-log-file-size")
    func oldMySQLRedoLog() {
        var old = mysql
        old.version = ServerVersion(5, 7, 44)
        let adapter = FlavorAdapter(binary: old, runningAsRoot: false)
        #expect(
            adapter.initialisationCommand(initialiser: "", layout: layout).arguments.contains(
                "--innodb-log-file-size=8M"
            )
        )
        #expect(!adapter.initialisationCommand(initialiser: "", layout: layout).arguments.contains("--user=root"))
    }

    @Test("MySQL runs without X protocol or binary log, and without MariaDB-only options")
    func mysqlFlags() {
        let adapter = FlavorAdapter(binary: mysql, runningAsRoot: true)
        let flags = adapter.serverFlags(layout: layout, valgrind: ValgrindVersion(3, 19, 0), userOptions: [])
        #expect(
            flags.arguments == [
                "--no-defaults", "--datadir=/r/server/data", "--tmpdir=/r/server/tmp", "--socket=/r/server/mysqld.sock",
                "--pid-file=/r/server/mysqld.pid", "--log-error=/r/logs/server.err", "--skip-networking", "--user=root",
                "--innodb-buffer-pool-size=32M", "--innodb-redo-log-capacity=8M", "--mysqlx=OFF", "--skip-log-bin",
            ]
        )
    }

    @Test("a socket path longer than sun_path allows is refused, saying why")
    func socketPathTooLong() throws {
        let long = ServerRunLayout(runDirectory: "/tmp/" + String(repeating: "d", count: 100))
        #expect(throws: ServerError.socketPathTooLong(path: long.socket, length: long.socket.utf8.count, limit: 107)) {
            try long.validate()
        }
        #expect(ServerError.socketPathTooLong(path: "/p", length: 120, limit: 107).description.contains("sun_path"))
        let fits = ServerRunLayout(
            runDirectory: "/tmp/" + String(repeating: "d", count: 107 - 5 - "/server/mysqld.sock".count)
        )
        #expect(fits.socket.utf8.count == 107)
        try fits.validate()
    }

    @Test(
        "server versions compare numerically",
        arguments: [
            ("10.11.19-MariaDB", ServerVersion(10, 11, 19)), ("8.0", ServerVersion(8, 0, 0)),
            ("10.11.19-MariaDB-0+deb12u1", ServerVersion(10, 11, 19)), ("8.0.36-debug", ServerVersion(8, 0, 36)),
        ]
    )
    func serverVersion(word: String, expected: ServerVersion) {
        #expect(ServerVersion(parsing: word) == expected)
        #expect(ServerVersion(8, 0, 30) > ServerVersion(8, 0, 9))
    }

    @Test("valgrind's thread slots follow the server's connections, replication workers and InnoDB threads")
    func maxThreads() {
        // 151 + 1 + 1 connections, 2 replication threads, 4 + 4 + 4 InnoDB threads, 4 per CPU, 64 others.
        #expect(FlavorAdapter.maxThreads(serverOptions: [], massifOptions: [], processors: 2) == 239)
        #expect(
            FlavorAdapter.maxThreads(
                serverOptions: ["--max_connections=1000", "--loose-slave-parallel-threads=16"],
                massifOptions: ["--depth=40"],
                processors: 2
            ) == 239 - 151 + 1000 + 16
        )
        #expect(FlavorAdapter.maxThreads(serverOptions: [], massifOptions: [], processors: 64) == 239 + 4 * 62)
        #expect(FlavorAdapter.maxThreads(serverOptions: [], massifOptions: ["--max-threads=900"], processors: 2) == nil)
        // A plan or bundle asking for 100,000 connections does not make valgrind reserve a table that large.
        #expect(
            FlavorAdapter.maxThreads(serverOptions: ["--max-connections=100000"], massifOptions: [], processors: 2)
                == FlavorAdapter.maxThreadsLimit
        )
        #expect(
            FlavorAdapter.maxThreads(serverOptions: ["--max-connections=-5"], massifOptions: [], processors: 2) == 88
        )
    }

    @Test(
        "inline information is skipped only for a server without DWARF, block chasing only from valgrind 3.17, never against the user's choice"
    )
    func startOptions() {
        let current = ValgrindVersion(3, 19)
        func options(_ dwarf: Bool, _ valgrind: ValgrindVersion = current, _ massif: [String] = []) -> [String] {
            FlavorAdapter.startOptions(serverHasDWARF: dwarf, valgrind: valgrind, massifOptions: massif)
        }
        #expect(options(false) == ["--read-inline-info=no", "--vex-guest-chase=no"])
        #expect(options(true) == ["--vex-guest-chase=no"])
        #expect(options(false, current, ["--read-inline-info=yes"]) == ["--vex-guest-chase=no"])
        #expect(options(true, current, ["--vex-guest-chase=yes"]).isEmpty)
        // Older releases do not know the option (they had --vex-guest-chase-thresh) and would refuse to start.
        #expect(options(false, ValgrindVersion(3, 16, 1)) == ["--read-inline-info=no"])
        #expect(options(true, ValgrindVersion(3, 17)) == ["--vex-guest-chase=no"])
    }

    @Test("the user's own options that hold the server at startup: stop-at naming startup or all, vgdb-error=0")
    func userStopsAtStartup() {
        func holds(_ options: [String]) -> Bool { FlavorAdapter.userStopsAtStartup(massifOptions: options) }
        #expect(holds(["--vgdb-stop-at=startup"]))
        #expect(holds(["--depth=40", "--vgdb-stop-at=exit,startup"]))
        #expect(holds(["--vgdb-stop-at=all"]))
        #expect(holds(["--vgdb-error=0"]))
        #expect(!holds([]))
        #expect(!holds(["--vgdb-stop-at=exit"]))
        #expect(!holds(["--vgdb-stop-at=none"]))
        #expect(!holds(["--vgdb-error=1"]))
        // valgrind takes the last of a repeated option, and with vgdb off nothing waits for a client.
        #expect(!holds(["--vgdb-stop-at=startup", "--vgdb-stop-at=none"]))
        #expect(holds(["--vgdb-stop-at=none", "--vgdb-stop-at=startup"]))
        #expect(!holds(["--vgdb-stop-at=startup", "--vgdb=no"]))
        #expect(holds(["--vgdb=no", "--vgdb=yes", "--vgdb-error=0"]))
        // Either way snapctl adds no hold of its own beside the user's.
        #expect(!FlavorAdapter.canStopAtStartup(massifOptions: ["--vgdb-stop-at=startup"]))
    }
}
