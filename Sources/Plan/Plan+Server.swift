extension Plan {
    /// A server that snapctl starts under valgrind (`server:`).
    public struct Server: Sendable, Hashable, Codable {
        /// The default `startup_timeout`.
        public static let defaultStartupTimeout = PlanDuration(milliseconds: 120_000)

        /// Which server family the binary belongs to.
        public var flavor: Flavor
        /// The server binary: a name looked up on PATH or a path; `nil` means the flavour's usual name
        /// (`mariadbd`, then `mysqld` for `auto`).
        public var binary: String?
        /// Extra server command-line options, e.g. `--sort-buffer-size=64M`.
        public var options: [String]
        /// Statements run after the server starts and before step 1; not snapshotted.
        public var initSQL: [String]
        /// How long the server may take to accept connections.
        public var startupTimeout: PlanDuration
        /// Variables added to the server's environment (`env:`), e.g. `LD_PRELOAD` to run it on jemalloc;
        /// the rest of snapctl's environment is inherited.
        public var environment: [String: String]

        public init(
            flavor: Flavor = .auto,
            binary: String? = nil,
            options: [String] = [],
            initSQL: [String] = [],
            startupTimeout: PlanDuration = Server.defaultStartupTimeout,
            environment: [String: String] = [:]
        ) {
            self.flavor = flavor
            self.binary = binary
            self.options = options
            self.initSQL = initSQL
            self.startupTimeout = startupTimeout
            self.environment = environment
        }

        enum CodingKeys: String, CodingKey {
            case flavor, binary, options, initSQL, startupTimeout, environment
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            flavor = try container.decode(Flavor.self, forKey: .flavor)
            binary = try container.decodeIfPresent(String.self, forKey: .binary)
            options = try container.decode([String].self, forKey: .options)
            initSQL = try container.decode([String].self, forKey: .initSQL)
            startupTimeout = try container.decode(PlanDuration.self, forKey: .startupTimeout)
            // Plans encoded before `env:` existed have none.
            environment = try container.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
        }

        /// The server a plan runs when it has neither `server:` nor `attach:`: a throwaway server of whatever
        /// flavour is installed, with its usual binary name and no extra options.
        public static let embeddedDefault = Server()
    }

    /// A server family.
    public enum Flavor: String, Sendable, Hashable, Codable, CaseIterable {
        /// Whatever the binary says it is (`--version`).
        case auto
        /// MariaDB (`mariadbd`).
        case mariadb
        /// MySQL (`mysqld`).
        case mysql
    }

    /// A server already running under `valgrind --tool=massif --vgdb=yes` (`attach:`).
    public struct Attach: Sendable, Hashable, Codable {
        /// The valgrind process id.
        public var pid: Int32
        /// The `--vgdb-prefix` the server was started with; `nil` means valgrind's default (`/tmp/vgdb-pipe`).
        public var vgdbPrefix: String?
        /// Where to connect; `nil` means the client library's default socket.
        public var endpoint: Endpoint?
        /// The user of connections that do not name their own (and of the default connection `main`).
        public var user: String
        /// The environment variable holding that user's password, for those same connections; `nil` means none.
        public var passwordEnv: String?

        public init(
            pid: Int32,
            vgdbPrefix: String? = nil,
            endpoint: Endpoint? = nil,
            user: String = Connection.defaultUser,
            passwordEnv: String? = nil
        ) {
            self.pid = pid
            self.vgdbPrefix = vgdbPrefix
            self.endpoint = endpoint
            self.user = user
            self.passwordEnv = passwordEnv
        }
    }

    /// Where a client connects to a server.
    public enum Endpoint: Sendable, Hashable, Codable {
        /// A Unix socket path (`socket:`).
        case socket(path: String)
        /// TCP (`host:` and `port:`, port 3306 by default).
        case tcp(host: String, port: Int)

        /// The MySQL port used when `host:` has no `port:`.
        public static let defaultPort = 3306
    }
}
