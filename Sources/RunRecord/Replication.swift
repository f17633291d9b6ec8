extension RunManifest {
    /// The primary of a profiled replica, as the manifest records it.
    ///
    /// It holds no password: the replication user's password is generated for the run and kept in memory
    /// only.
    public struct PrimaryInfo: Sendable, Hashable, Codable {
        /// `managed` (snapctl started it, not under valgrind) or `attached` (a running primary).
        public var mode: String
        public var flavor: String?
        public var version: String?
        public var binary: String?
        public var pid: Int32?
        /// The server's command line after the binary (managed).
        public var command: [String]?
        /// Where the replica reaches it: `127.0.0.1:PORT`, or the socket or host of an attached primary.
        public var address: String
        public var startupSeconds: Double?
        /// The user the replica logs in as (managed: `snapctl_repl`).
        public var replicationUser: String?
        /// The primary's GTID position replication began at.
        public var startPosition: String?
        /// How long the replica may take to catch up after a step on the primary.
        public var catchUpTimeoutSeconds: Double
        /// How the primary was stopped, once it has been.
        public var shutdown: String?

        public init(
            mode: String,
            flavor: String? = nil,
            version: String? = nil,
            binary: String? = nil,
            pid: Int32? = nil,
            command: [String]? = nil,
            address: String,
            startupSeconds: Double? = nil,
            replicationUser: String? = nil,
            startPosition: String? = nil,
            catchUpTimeoutSeconds: Double,
            shutdown: String? = nil
        ) {
            self.mode = mode
            self.flavor = flavor
            self.version = version
            self.binary = binary
            self.pid = pid
            self.command = command
            self.address = address
            self.startupSeconds = startupSeconds
            self.replicationUser = replicationUser
            self.startPosition = startPosition
            self.catchUpTimeoutSeconds = catchUpTimeoutSeconds
            self.shutdown = shutdown
        }

        enum CodingKeys: String, CodingKey {
            case mode, flavor, version, binary, pid, command, address, shutdown
            case startupSeconds = "startup_s"
            case replicationUser = "replication_user"
            case startPosition = "start_position"
            case catchUpTimeoutSeconds = "catch_up_timeout_s"
        }
    }
}

/// The replica's state after a step (`SHOW SLAVE STATUS`), and how long it took to catch up after a step
/// on the primary.
public struct ReplicaState: Sendable, Hashable, Codable {
    /// `Slave_IO_Running`: `Yes`, `No` or `Connecting`.
    public var ioRunning: String
    /// `Slave_SQL_Running`: `Yes` or `No`.
    public var sqlRunning: String
    /// `Seconds_Behind_Master`; `nil` when the server says NULL (a thread is not running).
    public var secondsBehind: Int?
    /// `Relay_Log_Space`: the bytes of relay logs on the replica.
    public var relayLogSpace: UInt64?
    public var lastIOErrno: Int?
    public var lastIOError: String?
    public var lastSQLErrno: Int?
    public var lastSQLError: String?
    /// The primary's `@@gtid_binlog_pos` after the step (steps on the primary).
    public var primaryPosition: String?
    /// The replica's `@@gtid_slave_pos` when the state was read.
    public var replicaPosition: String?
    /// Seconds from the end of the step's work on the primary until the replica had applied it; `nil`
    /// for steps on the replica, and when it did not catch up.
    public var catchUpSeconds: Double?
    /// Whether the replica applied everything the step wrote (steps on the primary).
    public var caughtUp: Bool?

    public init(
        ioRunning: String,
        sqlRunning: String,
        secondsBehind: Int? = nil,
        relayLogSpace: UInt64? = nil,
        lastIOErrno: Int? = nil,
        lastIOError: String? = nil,
        lastSQLErrno: Int? = nil,
        lastSQLError: String? = nil,
        primaryPosition: String? = nil,
        replicaPosition: String? = nil,
        catchUpSeconds: Double? = nil,
        caughtUp: Bool? = nil
    ) {
        self.ioRunning = ioRunning
        self.sqlRunning = sqlRunning
        self.secondsBehind = secondsBehind
        self.relayLogSpace = relayLogSpace
        self.lastIOErrno = lastIOErrno
        self.lastIOError = lastIOError
        self.lastSQLErrno = lastSQLErrno
        self.lastSQLError = lastSQLError
        self.primaryPosition = primaryPosition
        self.replicaPosition = replicaPosition
        self.catchUpSeconds = catchUpSeconds
        self.caughtUp = caughtUp
    }

    enum CodingKeys: String, CodingKey {
        case ioRunning = "io_running"
        case sqlRunning = "sql_running"
        case secondsBehind = "seconds_behind_master"
        case relayLogSpace = "relay_log_space"
        case lastIOErrno = "last_io_errno"
        case lastIOError = "last_io_error"
        case lastSQLErrno = "last_sql_errno"
        case lastSQLError = "last_sql_error"
        case primaryPosition = "primary_position"
        case replicaPosition = "replica_position"
        case catchUpSeconds = "catch_up_s"
        case caughtUp = "caught_up"
    }

    /// Both replication threads run.
    public var isReplicating: Bool { ioRunning == "Yes" && sqlRunning == "Yes" }

}
