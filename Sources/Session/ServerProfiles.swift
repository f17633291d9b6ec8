import Foundation
import MySQLServer
import Plan
import RunRecord
import Valgrind

/// Starts the server a plan names: launches one under Massif (`server:`) or attaches to one (`attach:`).
enum ServerProfiles {
    /// What the allocated lens needs of valgrind: an allocation tree with every counter (`m_xtmemory.c`).
    static let xtreeMemoryOption = "--xtree-memory=full"

    static func start(_ request: SessionEffects.StartRequest) async -> Result<any ProfiledServer, ServerError> {
        switch request.target {
        case .server(let settings):
            let flavor: ServerFlavor? =
                switch settings.flavor {
                case .auto: nil
                case .mariadb: .mariadb
                case .mysql: .mysql
                }
            var replicaOptions: [String] = []
            var privateDirectory: String?
            if request.isReplica {
                // The replica's connection settings (master.info holds the replication password) live in a
                // private directory outside the run directory, removed when the server stops.
                guard let directory = makePrivateDirectory() else {
                    return .failure(
                        .runDirectory(path: NSTemporaryDirectory(), reason: "cannot create a private directory")
                    )
                }
                privateDirectory = directory
                replicaOptions = replicaServerOptions(privateDirectory: directory)
            }
            var launch = LaunchOptions(
                runDirectory: request.runDirectory,
                serverBinary: settings.binary ?? (settings.flavor == .mysql ? "mysqld" : "mariadbd"),
                flavor: flavor,
                serverOptions: replicaOptions + settings.options,
                massifOptions: request.massif.valgrindOptions + (request.xtreeMemory ? [xtreeMemoryOption] : []),
                startupTimeout: settings.startupTimeout.duration,
                searchPath: request.searchPath,
                environment: settings.environment
            )
            // The engine takes the vgdb monitor and the observer the launch opened.
            launch.keepsConnections = true
            do throws(ServerError) {
                let managed = try await ManagedServer.launch(launch, progress: request.progress)
                return .success(
                    ManagedProfile(
                        server: managed,
                        runDirectory: request.runDirectory,
                        pagesAsHeap: request.massif.pagesAsHeap,
                        privateDirectory: privateDirectory
                    )
                )
            } catch {
                if let privateDirectory { try? FileManager.default.removeItem(atPath: privateDirectory) }
                return .failure(error)
            }
        case .attach(let attach):
            let target: ConnectionTarget =
                switch attach.endpoint {
                case .socket(let path): .socket(path: path)
                case .tcp(let host, let port): .tcp(host: host, port: port)
                case nil: .socket(path: "/run/mysqld/mysqld.sock")
                }
            let options = AttachOptions(
                pid: attach.pid,
                vgdbPrefix: attach.vgdbPrefix ?? AttachOptions.defaultVgdbPrefix,
                target: target,
                user: attach.user,
                passwordEnvironmentVariable: attach.passwordEnv,
                requirePagesAsHeap: request.massif.pagesAsHeap,
                requireXTreeMemory: request.xtreeMemory
            )
            do throws(ServerError) {
                let attached = try await AttachedServer.attach(options, environment: request.environment)
                let password = attach.passwordEnv.flatMap { environmentValue($0, in: request.environment) }
                return .success(AttachedProfile(server: attached, password: password))
            } catch {
                return .failure(error)
            }
        }
    }

    /// The options a replica of a managed primary starts with, before the plan's: a server id other than
    /// the primary's, no replication until snapctl starts it, fixed relay log names, and master.info in
    /// `privateDirectory`.
    static func replicaServerOptions(privateDirectory: String) -> [String] {
        [
            "--server-id=2", "--skip-slave-start", "--relay-log=replica-relay-bin",
            "--master-info-file=\(privateDirectory)/master.info",
        ]
    }

    /// The options a managed primary starts with, before the plan's: a server id and a binary log.
    static let primaryServerOptions = ["--server-id=1", "--log-bin=primary-bin"]

    /// Starts the primary a plan names (`primary:`), or connects to a running one (`attach: {primary:}`).
    static func startPrimary(_ request: SessionEffects.PrimaryRequest) async -> Result<any PrimaryServer, ServerError> {
        switch request.primary.source {
        case .server(let settings):
            let flavor: ServerFlavor? =
                switch settings.flavor {
                case .auto: nil
                case .mariadb: .mariadb
                case .mysql: .mysql
                }
            do throws(ServerError) {
                let port = try LoopbackPort.pick()
                let options = NativeLaunchOptions(
                    runDirectory: request.runDirectory,
                    role: ServerRunLayout.primaryRole,
                    serverBinary: settings.binary ?? (settings.flavor == .mysql ? "mysqld" : "mariadbd"),
                    flavor: flavor,
                    leadingOptions: primaryServerOptions,
                    serverOptions: settings.options,
                    // Last, so that no option of the plan moves the primary off the loopback address or
                    // lets a loopback connection pass for `localhost`: with names resolved, 127.0.0.1 is
                    // `localhost`, and root@localhost has no password. With `--skip-name-resolve` a TCP login
                    // matches only accounts made for its address, and the datadir has no such root.
                    trailingOptions: ["--skip-name-resolve", "--bind-address=127.0.0.1", "--port=\(port)"],
                    startupTimeout: settings.startupTimeout.duration,
                    searchPath: request.searchPath,
                    environment: settings.environment
                )
                let server = try await NativeServer.launch(options)
                return .success(
                    ManagedPrimary(server: server, port: port, catchUpTimeout: request.primary.catchUpTimeout)
                )
            } catch {
                // The server is stopped; its datadir goes too (its logs stay in RUN/logs).
                let layout = ServerRunLayout(runDirectory: request.runDirectory, role: ServerRunLayout.primaryRole)
                try? FileManager.default.removeItem(atPath: layout.serverDirectory)
                return .failure(error)
            }
        case .existing(let connection):
            var password: String?
            if let variable = connection.passwordEnv {
                guard let value = environmentValue(variable, in: request.environment) else {
                    return .failure(.passwordVariableUnset(name: variable))
                }
                password = value
            }
            var primary = AttachedPrimary(
                connection: connection,
                password: password,
                catchUpTimeout: request.primary.catchUpTimeout
            )
            do throws(ServerError) {
                let probe = try await primary.connect(
                    name: "snapctl-primary-probe",
                    user: connection.user,
                    password: password,
                    database: nil
                )
                primary.version = try? await probe.execute("SELECT VERSION()").value(at: 0)
                await probe.close()
                return .success(primary)
            } catch {
                return .failure(error)
            }
        }
    }

    /// A new directory only this user can read, outside the run directory.
    static func makePrivateDirectory() -> String? {
        var template = Array((NSTemporaryDirectory() + "/snapctl-replica-XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let pointer = buffer.baseAddress, mkdtemp(pointer) != nil else { return nil }
            return String(cString: pointer)
        }
    }

    /// The manifest's record of the allocators found; `nil` when there are none.
    static func allocatorRecords(_ allocators: [AllocatorDetection]) -> [RunManifest.Allocator]? {
        guard !allocators.isEmpty else { return nil }
        return allocators.map {
            RunManifest.Allocator(kind: $0.kind.rawValue, library: $0.library, source: $0.source.rawValue)
        }
    }

    /// What to say about the allocators the server runs on: a warning when Massif cannot see their
    /// blocks, else a line in the run log saying what snapctl did about them.
    static func allocatorNotes(
        _ allocators: [AllocatorDetection],
        added: String?,
        attached: AttachedServer?
    ) -> [StartNote] {
        allocators.map { allocator in
            switch (allocator.kind, added, attached) {
            case (.unknown, _, _):
                return .warning(
                    "the server runs on \(allocator.summary), an allocator snapctl does not know: Massif sees "
                        + "none of its blocks; set --soname-synonyms=somalloc=<its soname pattern> in massif.options"
                )
            case (_, let option?, nil):
                return .log("allocator: \(allocator.summary); added \(option) to Massif's options")
            case (_, nil, let server?) where !server.hasSonameSynonyms:
                return .warning(
                    "the attached server runs on \(allocator.summary) but valgrind was started without "
                        + "--soname-synonyms, so Massif sees none of its blocks; restart it with "
                        + "\(allocator.massifOption ?? "--soname-synonyms")"
                )
            default:
                return .log("allocator: \(allocator.summary); massif.options set --soname-synonyms")
            }
        }
    }

    /// What to say about an attached server's `GLIBC_TUNABLES`: nothing when it has snapctl's copy
    /// thresholds, otherwise how to start it so that counter reads cost what they cost in a managed run.
    static func tunablesNotes(pid: Int32, glibcTunables: String?) -> [StartNote] {
        if GuestTunables.isApplied(glibcTunables) { return [] }
        return [
            .log(
                "the attached server (pid \(pid)) runs without glibc's copy thresholds, so under valgrind each "
                    + "counter read (observe:) costs about 6 times more; start valgrind with "
                    + "\(GuestTunables.variable)=\(GuestTunables.merged(with: glibcTunables)) (docs/architecture.md)"
            )
        ]
    }

    /// A variable from the given environment, or from the process's own when none is given.
    static func environmentValue(_ name: String, in environment: [String: String]?) -> String? {
        if let environment { return environment[name] }
        return ProcessInfo.processInfo.environment[name]
    }
}

/// A server snapctl started under Massif: it is shut down, and its datadir removed, at the end.
struct ManagedProfile: ProfiledServer {
    let server: ManagedServer
    let runDirectory: String
    let pagesAsHeap: Bool
    /// A replica's private directory (its master.info), removed once it has stopped.
    var privateDirectory: String? = nil

    var pid: Int32 { server.valgrindPID }
    var vgdbPrefix: String { server.vgdbPrefix }
    var socketPath: String { server.socketPath }
    var defaultCredentials: Credentials? { nil }

    var info: RunManifest.ServerInfo {
        RunManifest.ServerInfo(
            mode: "managed",
            flavor: server.flavor.rawValue,
            version: server.version.description,
            binary: server.binary.path,
            pid: server.valgrindPID,
            valgrindCommand: [server.valgrindCommand.valgrind] + server.valgrindCommand.arguments,
            valgrindEnvironment: server.valgrindCommand.environment,
            valgrindVersion: server.valgrind.version.description,
            startupSeconds: server.startupDuration.seconds,
            pagesAsHeap: pagesAsHeap,
            allocators: ServerProfiles.allocatorRecords(server.allocators),
            sonameSynonyms: server.sonameSynonymsOption
        )
    }

    var startNotes: [StartNote] {
        ServerProfiles.allocatorNotes(server.allocators, added: server.sonameSynonymsOption, attached: nil)
    }

    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> any SQLSession
    {
        try await server.connect(name: name, user: user, password: password, database: database)
    }

    func connectObserver() async throws(ServerError) -> any SQLSession {
        if let ready = await server.takeReadyConnection() { return ready }
        return try await server.connect(name: ManagedServer.observerName)
    }

    func takeStartupMonitor() async -> (any HeapMonitor)? { await server.takeStartupMonitor() }

    func explain(_ error: ServerError) async -> ServerError { await server.explain(error) }

    func death() async -> String? {
        do {
            try await server.checkAlive()
            return nil
        } catch {
            if let exit = server.exitStatus { return server.deathReport(exit).description }
            return error.description
        }
    }

    func waitForExit() async {
        // The supervisor's own wait cannot be cancelled, so the exit status it sets is polled instead.
        while !Task.isCancelled && server.exitStatus == nil {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func stop() async -> ServerStop {
        let outcome = await server.shutdown()
        var stop = ServerStop(shutdown: outcome.description, expectsMassifFinal: true)
        do {
            try await server.removeDatadir()
        } catch {
            stop.warnings.append("the datadir was kept: \(error)")
        }
        // What is left of RUN/server is its tmpdir and nothing else once the server has stopped.
        let directory = runDirectory + "/" + RunLayout.serverDirectory
        try? FileManager.default.removeItem(atPath: directory + "/tmp")
        rmdir(directory)
        if let privateDirectory { try? FileManager.default.removeItem(atPath: privateDirectory) }
        return stop
    }
}

/// A server running under Massif that snapctl attached to: it runs on after the run.
struct AttachedProfile: ProfiledServer {
    let server: AttachedServer
    let password: String?

    var pid: Int32 { server.valgrindPID }
    var vgdbPrefix: String { server.vgdbPrefix }
    var socketPath: String {
        if case .socket(let path) = server.options.target { return path }
        return ""
    }
    var defaultCredentials: Credentials? { Credentials(user: server.options.user, password: password) }

    var info: RunManifest.ServerInfo {
        RunManifest.ServerInfo(
            mode: "attached",
            flavor: server.flavor.rawValue,
            version: server.serverVersion,
            pid: server.valgrindPID,
            valgrindEnvironment: server.glibcTunables.map { [GuestTunables.variable: $0] },
            pagesAsHeap: server.valgrindCommandLine.map(AttachedServer.hasPagesAsHeap),
            allocators: ServerProfiles.allocatorRecords(server.allocators)
        )
    }

    var startNotes: [StartNote] {
        ServerProfiles.allocatorNotes(server.allocators, added: nil, attached: server)
            + ServerProfiles.tunablesNotes(pid: server.valgrindPID, glibcTunables: server.glibcTunables)
    }

    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> any SQLSession
    {
        try await Connection.connect(
            ConnectionOptions(
                name: name,
                target: server.options.target,
                user: user,
                password: password,
                database: database
            )
        )
    }

    func connectObserver() async throws(ServerError) -> any SQLSession {
        try await server.connect(name: "snapctl-observer")
    }

    func explain(_ error: ServerError) async -> ServerError {
        if case .sql(let sql) = error, sql.isConnectionLost, !server.isAlive {
            return .noSuchProcess(pid: server.valgrindPID)
        }
        return error
    }

    func death() async -> String? {
        server.isAlive ? nil : "the server (pid \(server.valgrindPID)) is gone"
    }

    func waitForExit() async {
        while !Task.isCancelled && server.isAlive {
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    func stop() async -> ServerStop { ServerStop() }
}
