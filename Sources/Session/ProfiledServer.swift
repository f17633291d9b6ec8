import MySQLServer
import Plan

/// The server a session profiles: one it started, or one it attached to. Both give a pid and a vgdb
/// prefix for the monitor, and connections; only a managed server is shut down at the end.
enum ProfiledServer: Sendable {
    case managed(ManagedServer)
    case attached(AttachedServer, password: String?)

    var pid: Int32 {
        switch self {
        case .managed(let server): return server.valgrindPID
        case .attached(let server, _): return server.valgrindPID
        }
    }

    var vgdbPrefix: String {
        switch self {
        case .managed(let server): return server.vgdbPrefix
        case .attached(let server, _): return server.vgdbPrefix
        }
    }

    var target: ConnectionTarget {
        switch self {
        case .managed(let server): return .socket(path: server.socketPath)
        case .attached(let server, _): return server.options.target
        }
    }

    /// The socket path shell steps get as `SNAPCTL_SOCKET` (empty over TCP).
    var socketPath: String {
        if case .socket(let path) = target { return path }
        return ""
    }

    /// Opens a connection as `user`.
    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> Connection
    {
        try await Connection.connect(
            ConnectionOptions(name: name, target: target, user: user, password: password, database: database)
        )
    }

    /// The observer: the attach credentials, or root on a managed server.
    func connectObserver() async throws(ServerError) -> Connection {
        switch self {
        case .managed(let server): return try await server.connect(name: "snapctl-observer")
        case .attached(let server, _): return try await server.connect(name: "snapctl-observer")
        }
    }

    /// The real story behind a connection error: a dead server is reported as such.
    func explain(_ error: ServerError) async -> ServerError {
        switch self {
        case .managed(let server): return await server.explain(error)
        case .attached(let server, _):
            if case .sql(let sql) = error, sql.isConnectionLost, !server.isAlive {
                return .noSuchProcess(pid: server.valgrindPID)
            }
            return error
        }
    }

    /// Whether the server is known to have died.
    func hasDied() async -> Bool {
        switch self {
        case .managed(let server):
            do {
                try await server.checkAlive()
                return false
            } catch {
                return true
            }
        case .attached(let server, _): return !server.isAlive
        }
    }
}
