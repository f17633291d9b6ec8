import Foundation
import MySQLServer
import Plan
import RunRecord

/// The primary a profiled replica replicates from, as the engine sees it: connections for steps with
/// `on: primary`, its death, and a way to stop it.
///
/// ``ManagedPrimary`` (a server snapctl started without valgrind) and ``AttachedPrimary`` (a running one)
/// are the real ones; unit tests put a scripted primary here.
protocol PrimaryServer: Sendable {
    /// What the manifest records of the primary.
    var info: RunManifest.PrimaryInfo { get }
    /// Where the replica reaches it, when snapctl sets replication up (a managed primary); `nil` for a
    /// primary the replica already replicates from.
    var replicationSource: (host: String, port: Int)? { get }
    /// The credentials that stand for the plan's default user (an attached primary's); `nil` when
    /// connections use their own.
    var defaultCredentials: Credentials? { get }

    /// Opens a connection as `user`.
    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> any SQLSession
    /// The real story behind a connection error: a dead primary is reported as such.
    func explain(_ error: ServerError) async -> ServerError
    /// Why the primary is gone, or `nil` while it runs.
    func death() async -> String?
    /// Stops the primary if snapctl started it.
    func stop() async -> ServerStop
}

/// A primary snapctl started without valgrind, listening on 127.0.0.1 at a port snapctl picked.
struct ManagedPrimary: PrimaryServer {
    let server: NativeServer
    let port: Int
    let catchUpTimeout: PlanDuration

    var replicationSource: (host: String, port: Int)? { ("127.0.0.1", port) }
    var defaultCredentials: Credentials? { nil }

    var info: RunManifest.PrimaryInfo {
        RunManifest.PrimaryInfo(
            mode: "managed",
            flavor: server.binary.flavor.rawValue,
            version: server.binary.version.description,
            binary: server.binary.path,
            pid: server.pid,
            command: server.arguments,
            address: "127.0.0.1:\(port)",
            startupSeconds: server.startupDuration.seconds,
            replicationUser: Replication.user,
            catchUpTimeoutSeconds: Double(catchUpTimeout.milliseconds) / 1000
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

    func explain(_ error: ServerError) async -> ServerError { await server.explain(error) }

    func death() async -> String? { await server.death() }

    func stop() async -> ServerStop {
        let outcome = await server.shutdown()
        var stop = ServerStop(shutdown: outcome.summary)
        if !outcome.processGroupGone {
            stop.warnings.append("the primary (pid \(server.pid)) may still be running: \(outcome.description)")
        }
        do {
            try await server.removeFiles()
        } catch {
            stop.warnings.append("the primary's files were kept: \(error)")
        }
        return stop
    }
}

/// A running primary that an attached replica already replicates from.
struct AttachedPrimary: PrimaryServer {
    let connection: Plan.PrimaryConnection
    let password: String?
    let catchUpTimeout: PlanDuration
    var version: String?

    var target: ConnectionTarget {
        switch connection.endpoint {
        case .socket(let path): .socket(path: path)
        case .tcp(let host, let port): .tcp(host: host, port: port)
        }
    }

    var replicationSource: (host: String, port: Int)? { nil }
    var defaultCredentials: Credentials? { Credentials(user: connection.user, password: password) }

    var info: RunManifest.PrimaryInfo {
        RunManifest.PrimaryInfo(
            mode: "attached",
            version: version,
            address: target.description,
            catchUpTimeoutSeconds: Double(catchUpTimeout.milliseconds) / 1000
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
            ConnectionOptions(name: name, target: target, user: user, password: password, database: database)
        )
    }

    func explain(_ error: ServerError) async -> ServerError { error }

    func death() async -> String? { nil }

    func stop() async -> ServerStop { ServerStop() }
}

/// Replication between the primary and the profiled replica while a run lasts: sets it up (for a managed
/// primary), waits for the replica to catch up after a step on the primary, and reads the replica's state.
///
/// Holds a connection to each server of its own, so that neither the steps' connections nor the
/// replica's observer (counters, `KILL QUERY`) carry its queries.
struct Replication: Sendable {
    /// The replication user snapctl creates on a managed primary.
    static let user = "snapctl_repl"

    let primary: any PrimaryServer
    /// On the primary: `@@gtid_binlog_pos`, and `KILL QUERY` for steps on it.
    let primaryObserver: any SQLSession
    /// On the replica: `MASTER_GTID_WAIT` and `SHOW SLAVE STATUS`.
    let replicaControl: any SQLSession
    /// The plan's `catch_up_timeout`.
    let catchUpTimeout: PlanDuration

    /// What went wrong with replication, for the step or the start that met it.
    struct Failure: Error, Sendable {
        var message: String
        var state: ReplicaState?
        /// The wait was stopped by Ctrl-C rather than by the replica.
        var interrupted = false
    }

    // MARK: Setting up

    /// Creates the replication user on the primary (not written to its binary log), points the replica at
    /// the primary's current GTID position and starts it; returns that position once the replica's IO
    /// thread is connected. The generated password is used in two statements and kept nowhere.
    func start(
        source: (host: String, port: Int),
        password: String,
        connectTimeout: Duration
    ) async throws(Failure) -> String {
        let host = source.host
        // A failed statement's text must not reach an error message: it holds the password.
        try await run(
            [
                "SET SESSION sql_log_bin=0",
                "CREATE USER '\(Self.user)'@'\(host)' IDENTIFIED BY '\(password)'",
                "GRANT REPLICATION SLAVE ON *.* TO '\(Self.user)'@'\(host)'",
                "SET SESSION sql_log_bin=1",
            ],
            on: primaryObserver,
            what: "creating the replication user on the primary"
        )
        let position: String
        do throws(ServerError) {
            position = try await primaryObserver.execute("SELECT @@gtid_binlog_pos").value(at: 0) ?? ""
        } catch {
            throw Failure(message: "reading the primary's GTID position: \(Self.withoutStatement(error))")
        }
        try await run(
            [
                "SET GLOBAL gtid_slave_pos='\(position)'",
                "CHANGE MASTER TO MASTER_HOST='\(host)', MASTER_PORT=\(source.port), MASTER_USER='\(Self.user)', "
                    + "MASTER_PASSWORD='\(password)', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
                "START SLAVE",
            ],
            on: replicaControl,
            what: "pointing the replica at the primary"
        )
        try await waitForConnection(timeout: connectTimeout, source: "\(host):\(source.port)")
        return position
    }

    /// Checks that an attached replica replicates (`SHOW SLAVE STATUS` has a row with both threads running).
    func checkAttached() async throws(Failure) {
        let state = try await readState()
        guard let state else {
            throw Failure(
                message: "the attached server is not a replica (SHOW SLAVE STATUS is empty); point it at the "
                    + "primary named in attach.primary with CHANGE MASTER TO and START SLAVE first"
            )
        }
        // A replica started moments before snapctl attached is still connecting ("Connecting", or
        // "Preparing" while it registers with its primary): wait for it, as for a replica snapctl starts.
        if state.sqlRunning == "Yes", state.ioRunning != "Yes", state.ioRunning != "No", (state.lastIOErrno ?? 0) == 0 {
            try await waitForConnection(
                timeout: .milliseconds(max(catchUpTimeout.milliseconds, 1)),
                source: "its primary",
                hint: "check the replica's CHANGE MASTER TO settings and the primary named in attach.primary"
            )
            return
        }
        if let problem = ReplicaRules.fault(state) { throw Failure(message: problem, state: state) }
    }

    /// Polls until the replica's IO thread is connected; fails at once when it reports an error.
    /// - Parameter hint: what to check when the IO thread reports an error.
    private func waitForConnection(
        timeout: Duration,
        source: String,
        hint: String = "check the primary's options and logs/primary.err"
    ) async throws(Failure) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let state = try await readState()
            if let state, state.ioRunning == "Yes" { return }
            if let state, let errno = state.lastIOErrno, errno != 0 {
                throw Failure(
                    message: "the replica cannot connect to the primary at \(source): Last_IO_Error \(errno): "
                        + "\(state.lastIOError ?? ""); \(hint)",
                    state: state
                )
            }
            if ContinuousClock.now >= deadline {
                throw Failure(
                    message: "the replica's IO thread did not connect to the primary at \(source) within "
                        + "\(Int(timeout.seconds)) s (Slave_IO_Running: \(state?.ioRunning ?? "no status"))",
                    state: state
                )
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: Steps

    /// Waits until the replica has applied everything the primary has written, up to `timeout`; the
    /// state it returns carries the primary's position and the catch-up time. Fails at once when the SQL
    /// thread stops on an error, and at the timeout saying how far behind the replica was.
    func catchUp(timeout: PlanDuration) async throws(Failure) -> ReplicaState {
        let position: String
        do throws(ServerError) {
            position = try await primaryObserver.execute("SELECT @@gtid_binlog_pos").value(at: 0) ?? ""
        } catch {
            let explained = await primary.explain(error)
            throw Failure(message: "reading the primary's GTID position: \(Self.withoutStatement(explained))")
        }
        let started = ContinuousClock.now
        let limit = Duration.milliseconds(timeout.milliseconds)
        while true {
            if Task.isCancelled {
                throw Failure(message: "interrupted while waiting for the replica to catch up", interrupted: true)
            }
            let left = limit - (ContinuousClock.now - started)
            // Waits of at most a second, so that a stopped SQL thread is noticed before the timeout.
            let slice = max(0.01, min(1.0, left.seconds))
            let waited: String?
            do throws(ServerError) {
                waited = try await replicaControl.execute(
                    "SELECT MASTER_GTID_WAIT('\(position)', \(ReplicaRules.decimal(slice)))"
                ).value(at: 0)
            } catch {
                throw Failure(message: "waiting for the replica: \(Self.withoutStatement(error))")
            }
            if waited == "0" {
                let elapsed = (ContinuousClock.now - started).seconds
                var state = try await readState() ?? ReplicaState(ioRunning: "", sqlRunning: "")
                state.primaryPosition = position
                state.catchUpSeconds = elapsed
                state.caughtUp = true
                return state
            }
            var state = try await readState() ?? ReplicaState(ioRunning: "No", sqlRunning: "No")
            state.primaryPosition = position
            state.caughtUp = false
            if state.sqlRunning != "Yes", let errno = state.lastSQLErrno, errno != 0 {
                throw Failure(
                    message: "the replica's SQL thread stopped on error \(errno) applying what the step wrote on "
                        + "the primary: \(state.lastSQLError ?? ""); the replica applied up to "
                        + "\(state.replicaPosition ?? "nothing") of the primary's \(position)",
                    state: state
                )
            }
            if ContinuousClock.now - started >= limit {
                throw Failure(
                    message: ReplicaRules.behindMessage(state, primary: position, timeout: timeout),
                    state: state
                )
            }
        }
    }

    /// The replica's state now; `nil` when it is not a replica.
    func readState() async throws(Failure) -> ReplicaState? {
        do throws(ServerError) {
            let status = try await replicaControl.execute("SHOW SLAVE STATUS")
            guard !status.rows.isEmpty else { return nil }
            var state = ReplicaRules.state(from: status)
            state.replicaPosition = try await replicaControl.execute("SELECT @@gtid_slave_pos").value(at: 0)
            return state
        } catch {
            throw Failure(message: "reading the replica's status: \(Self.withoutStatement(error))")
        }
    }

    /// Closes both connections.
    func close() async {
        await primaryObserver.close()
        await replicaControl.close()
    }

    // MARK: Helpers

    private func run(_ statements: [String], on connection: any SQLSession, what: String) async throws(Failure) {
        for statement in statements {
            do throws(ServerError) {
                _ = try await connection.execute(statement)
            } catch {
                throw Failure(message: "\(what): \(Self.withoutStatement(error))")
            }
        }
    }

    /// The error without the statement that failed (which may hold the replication password).
    static func withoutStatement(_ error: ServerError) -> String {
        if case .sql(var sql) = error {
            sql.statement = nil
            return sql.description
        }
        return error.description
    }

    /// 24 letters and digits from the system's random generator.
    static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// The pure rules of replication: reading `SHOW SLAVE STATUS`, what a state says is wrong, how far
/// behind a replica is.
enum ReplicaRules {
    /// The state a `SHOW SLAVE STATUS` row gives.
    static func state(from status: QueryResult) -> ReplicaState {
        func text(_ column: String) -> String? {
            guard let value = status.value(column), !value.isEmpty else { return nil }
            return value
        }
        return ReplicaState(
            ioRunning: text("Slave_IO_Running") ?? "No",
            sqlRunning: text("Slave_SQL_Running") ?? "No",
            secondsBehind: text("Seconds_Behind_Master").flatMap { Int($0) },
            relayLogSpace: text("Relay_Log_Space").flatMap { UInt64($0) },
            lastIOErrno: text("Last_IO_Errno").flatMap { Int($0) },
            lastIOError: text("Last_IO_Error"),
            lastSQLErrno: text("Last_SQL_Errno").flatMap { Int($0) },
            lastSQLError: text("Last_SQL_Error")
        )
    }

    /// What is wrong with a replica in this state, or `nil` when both threads run.
    static func fault(_ state: ReplicaState) -> String? {
        if state.sqlRunning != "Yes" {
            if let errno = state.lastSQLErrno, errno != 0 {
                return "the replica's SQL thread stopped on error \(errno): \(state.lastSQLError ?? "")"
            }
            return "the replica's SQL thread is not running (Slave_SQL_Running: \(state.sqlRunning))"
        }
        if state.ioRunning != "Yes" {
            if let errno = state.lastIOErrno, errno != 0 {
                return "the replica's IO thread is not connected: Last_IO_Error \(errno): \(state.lastIOError ?? "")"
            }
            return "the replica's IO thread is not running (Slave_IO_Running: \(state.ioRunning))"
        }
        return nil
    }

    /// The message of a replica that did not catch up within `timeout`.
    static func behindMessage(_ state: ReplicaState, primary: String, timeout: PlanDuration) -> String {
        var message =
            "the replica did not catch up within \(timeout): it had applied up to "
            + "\(state.replicaPosition.map { $0.isEmpty ? "nothing" : $0 } ?? "nothing") of the primary's \(primary)"
        if let missing = transactionsBehind(replica: state.replicaPosition ?? "", primary: primary) {
            message += " (\(missing) transaction\(missing == 1 ? "" : "s") behind)"
        }
        message += "; Seconds_Behind_Master \(state.secondsBehind.map(String.init) ?? "NULL")"
        if let space = state.relayLogSpace { message += ", relay log \(space) bytes" }
        message += ", IO thread \(state.ioRunning), SQL thread \(state.sqlRunning)"
        message += "; raise catch_up_timeout (primary: or the step) if the replica is just slow under valgrind"
        return message
    }

    /// How many transactions the replica's GTID position lacks of the primary's, counting each domain's
    /// sequence numbers; `nil` when a position cannot be read.
    static func transactionsBehind(replica: String, primary: String) -> Int? {
        guard let wanted = parse(primary), let have = parse(replica) else { return nil }
        var missing = 0
        for (domain, sequence) in wanted {
            let applied = have[domain] ?? 0
            if sequence > applied {
                let (difference, overflow) = sequence.subtractingReportingOverflow(applied)
                guard !overflow, difference <= UInt64(Int.max) else { return nil }
                missing = missing.addingReportingOverflow(Int(difference)).partialValue
            }
        }
        return missing
    }

    /// A GTID list (`0-1-12,1-1-3`) as the highest sequence number per domain.
    static func parse(_ list: String) -> [UInt32: UInt64]? {
        var result: [UInt32: UInt64] = [:]
        for item in list.split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "-")
            guard parts.count == 3, let domain = UInt32(parts[0]), UInt32(parts[1]) != nil,
                let sequence = UInt64(parts[2])
            else { return nil }
            result[domain] = max(result[domain] ?? 0, sequence)
        }
        return result
    }

    /// A number of seconds as SQL reads it: `0.5`, `1`.
    static func decimal(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let whole = milliseconds / 1000
        let fraction = milliseconds % 1000
        if fraction == 0 { return String(whole) }
        var digits = String(fraction)
        while digits.count < 3 { digits = "0" + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}

extension QueryResult {
    /// The first row's value in column `index`.
    func value(at index: Int) -> String? {
        guard let row = rows.first, index < row.count else { return nil }
        return row[index]
    }
}
