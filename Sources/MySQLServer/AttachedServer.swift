import Valgrind

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How to reach a server the user already started under `valgrind --tool=massif --vgdb=yes`.
///
/// There is no password field: the password is read from the environment variable the user names, so
/// it never appears in a plan, a run record or the process list.
public struct AttachOptions: Sendable, Hashable, Codable {
    /// The valgrind process's pid (the server's pid file holds it).
    public var pid: Int32
    /// The `--vgdb-prefix` the server was started with; valgrind's default is `/tmp/vgdb-pipe`.
    public var vgdbPrefix: String
    /// The server's socket, or host and port.
    public var target: ConnectionTarget
    /// The SQL user.
    public var user: String
    /// The environment variable that holds the password (e.g. `MYSQL_PWD`); `nil` for no password.
    public var passwordEnvironmentVariable: String?
    /// The plan asks for `pages_as_heap`: the running valgrind must have been started with
    /// `--pages-as-heap=yes`, since that cannot be switched on later.
    public var requirePagesAsHeap: Bool
    /// Some step asks for the allocated lens: the running valgrind must have been started with
    /// `--xtree-memory=full`, which cannot be switched on later either.
    public var requireXTreeMemory: Bool = false

    /// valgrind's default `--vgdb-prefix` (`VG_(vgdb_prefix_default)` without TMPDIR).
    public static let defaultVgdbPrefix = "/tmp/vgdb-pipe"

    /// Creates attach options.
    public init(
        pid: Int32,
        vgdbPrefix: String = AttachOptions.defaultVgdbPrefix,
        target: ConnectionTarget,
        user: String = "root",
        passwordEnvironmentVariable: String? = nil,
        requirePagesAsHeap: Bool = false,
        requireXTreeMemory: Bool = false
    ) {
        self.pid = pid
        self.vgdbPrefix = vgdbPrefix
        self.target = target
        self.user = user
        self.passwordEnvironmentVariable = passwordEnvironmentVariable
        self.requirePagesAsHeap = requirePagesAsHeap
        self.requireXTreeMemory = requireXTreeMemory
    }

    enum CodingKeys: String, CodingKey {
        case pid, vgdbPrefix, target, user, passwordEnvironmentVariable, requirePagesAsHeap, requireXTreeMemory
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        pid = try container.decode(Int32.self, forKey: .pid)
        vgdbPrefix = try container.decode(String.self, forKey: .vgdbPrefix)
        target = try container.decode(ConnectionTarget.self, forKey: .target)
        user = try container.decode(String.self, forKey: .user)
        passwordEnvironmentVariable = try container.decodeIfPresent(String.self, forKey: .passwordEnvironmentVariable)
        requirePagesAsHeap = try container.decodeIfPresent(Bool.self, forKey: .requirePagesAsHeap) ?? false
        requireXTreeMemory = try container.decodeIfPresent(Bool.self, forKey: .requireXTreeMemory) ?? false
    }
}

/// A server snapctl did not start and will not stop: it only checks it, talks SQL to it, and exposes the
/// pid and prefix for the vgdb relay.
public struct AttachedServer: Sendable {
    /// What the user gave.
    public let options: AttachOptions
    /// The `-from-vgdb-to-<pid>-` FIFO that proved the process runs valgrind's gdbserver.
    public let vgdbFIFO: String
    /// The server's version string (`SELECT VERSION()` via `mysql_get_server_info`).
    public let serverVersion: String
    /// The valgrind command line of the process (from `/proc/PID/cmdline`), when it could be read.
    public let valgrindCommandLine: [String]?
    /// The malloc replacements mapped into the process (from `/proc/PID/maps`).
    public let allocators: [AllocatorDetection]
    /// The process's `GLIBC_TUNABLES` (from `/proc/PID/environ`), when it has one: without
    /// ``GuestTunables`` every counter read costs several times more under valgrind.
    public let glibcTunables: String?
    private let password: String?

    /// The valgrind process's pid, for the vgdb relay.
    public var valgrindPID: Int32 { options.pid }
    /// The `--vgdb-prefix`, for the vgdb relay.
    public var vgdbPrefix: String { options.vgdbPrefix }
    /// The flavour, from the version string.
    public var flavor: ServerFlavor { serverVersion.lowercased().contains("mariadb") ? .mariadb : .mysql }

    /// Checks that `pid` is alive and has a vgdb FIFO under the prefix, reads the password from the
    /// environment, and makes one connection to prove the credentials.
    ///
    /// - Parameter environment: the variables to read the password from; the process's environment
    ///   when `nil`.
    public static func attach(
        _ options: AttachOptions,
        environment: [String: String]? = nil
    ) async throws(ServerError) -> AttachedServer {
        guard ProcessGroup.processExists(options.pid) else { throw .noSuchProcess(pid: options.pid) }
        let commandLine = FileIO.commandLine(pid: options.pid)
        if options.requirePagesAsHeap, let commandLine, !Self.hasPagesAsHeap(commandLine) {
            throw .pagesAsHeapNotEnabled(pid: options.pid, command: commandLine.joined(separator: " "))
        }
        if options.requireXTreeMemory, let commandLine, !Self.hasFullXTreeMemory(commandLine) {
            throw .xtreeMemoryNotEnabled(pid: options.pid, command: commandLine.joined(separator: " "))
        }
        guard
            let fifo = VgdbEndpoint.scan(prefix: options.vgdbPrefix).first(where: { $0.pid == options.pid })?
                .toValgrindFIFO
        else {
            throw .noVgdbFIFO(
                pid: options.pid,
                prefix: options.vgdbPrefix,
                looked: FileIO.directory(of: options.vgdbPrefix)
            )
        }
        var password: String?
        if let name = options.passwordEnvironmentVariable {
            let value = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
            guard let value else { throw .passwordVariableUnset(name: name) }
            password = value
        }
        let probe = try await Connection.connect(
            ConnectionOptions(name: "snapctl-attach", target: options.target, user: options.user, password: password)
        )
        let version = await probe.serverVersion
        await probe.close()
        return AttachedServer(
            options: options,
            vgdbFIFO: fifo,
            serverVersion: version,
            valgrindCommandLine: commandLine,
            allocators: AllocatorDetector.detect(pid: options.pid),
            glibcTunables: FileIO.environmentValue(pid: options.pid, name: GuestTunables.variable),
            password: password
        )
    }

    /// Opens a connection with the attach credentials.
    public func connect(name: String, database: String? = nil) async throws(ServerError) -> Connection {
        try await Connection.connect(
            ConnectionOptions(
                name: name,
                target: options.target,
                user: options.user,
                password: password,
                database: database
            )
        )
    }

    /// Whether valgrind's options (those before the program) switch `--pages-as-heap` on; the last one wins.
    public static func hasPagesAsHeap(_ commandLine: [String]) -> Bool {
        var on = false
        for word in commandLine.dropFirst() {
            if !word.hasPrefix("-") { break }
            if word.hasPrefix("--pages-as-heap=") { on = word == "--pages-as-heap=yes" }
        }
        return on
    }

    /// Whether valgrind's options switch `--xtree-memory=full` on (`allocs` keeps no totals); the last one wins.
    public static func hasFullXTreeMemory(_ commandLine: [String]) -> Bool {
        var on = false
        for word in commandLine.dropFirst() {
            if !word.hasPrefix("-") { break }
            if word.hasPrefix("--xtree-memory=") { on = word == "--xtree-memory=full" }
        }
        return on
    }

    /// Whether valgrind was started with a `--soname-synonyms` option (so an allocator's blocks are seen).
    public var hasSonameSynonyms: Bool {
        (valgrindCommandLine ?? []).dropFirst().prefix { $0.hasPrefix("-") }.contains {
            $0.hasPrefix("--soname-synonyms")
        }
    }

    /// Whether the valgrind process still exists.
    public var isAlive: Bool { ProcessGroup.processExists(options.pid) }
}
