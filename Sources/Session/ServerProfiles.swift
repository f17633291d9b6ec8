import Foundation
import MySQLServer
import Plan
import RunRecord

/// Starts the server a plan names: launches one under Massif (`server:`) or attaches to one (`attach:`).
enum ServerProfiles {
    static func start(_ request: SessionEffects.StartRequest) async -> Result<any ProfiledServer, ServerError> {
        switch request.target {
        case .server(let settings):
            let flavor: ServerFlavor? =
                switch settings.flavor {
                case .auto: nil
                case .mariadb: .mariadb
                case .mysql: .mysql
                }
            var massifOptions = request.massif.options
            if request.massif.timeUnit != .instructions {
                massifOptions.append("--time-unit=\(request.massif.timeUnit.rawValue)")
            }
            let launch = LaunchOptions(
                runDirectory: request.runDirectory,
                serverBinary: settings.binary ?? (settings.flavor == .mysql ? "mysqld" : "mariadbd"),
                flavor: flavor,
                serverOptions: settings.options,
                massifOptions: massifOptions,
                startupTimeout: settings.startupTimeout.duration,
                searchPath: request.searchPath
            )
            do throws(ServerError) {
                let managed = try await ManagedServer.launch(launch, progress: request.progress)
                return .success(ManagedProfile(server: managed, runDirectory: request.runDirectory))
            } catch {
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
                passwordEnvironmentVariable: attach.passwordEnv
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
            valgrindVersion: server.valgrind.version.description,
            startupSeconds: server.startupDuration.seconds
        )
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
        try await server.connect(name: "snapctl-observer")
    }

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
            pid: server.valgrindPID
        )
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
