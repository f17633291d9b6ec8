extension Plan {
    /// The primary server a profiled replica replicates from (`primary:`, or `attach: {primary: ...}`).
    ///
    /// With a primary, the profiled server (`server:` or `attach:`) is a replica: steps with `on: primary`
    /// run their SQL on the primary, and the replica's after snapshot waits until it has applied what the
    /// step wrote. See docs/plan.md.
    public struct Primary: Sendable, Hashable, Codable {
        /// The default `catch_up_timeout`.
        public static let defaultCatchUpTimeout = PlanDuration(milliseconds: 30_000)

        /// Where the primary comes from.
        public var source: Source
        /// How long the replica may take to apply what a step on the primary wrote.
        public var catchUpTimeout: PlanDuration

        public init(source: Source, catchUpTimeout: PlanDuration = Primary.defaultCatchUpTimeout) {
            self.source = source
            self.catchUpTimeout = catchUpTimeout
        }

        /// The primary's server settings, when snapctl starts it.
        public var server: Server? {
            if case .server(let server) = source { return server }
            return nil
        }

        /// The connection to an existing primary, with `attach:`.
        public var existing: PrimaryConnection? {
            if case .existing(let connection) = source { return connection }
            return nil
        }
    }

    /// Where a primary comes from.
    public enum PrimarySource: Sendable, Hashable, Codable {
        /// A throwaway server snapctl starts, not under valgrind (`primary:` beside `server:`).
        case server(Server)
        /// A server already running that an attached replica replicates from (`attach: {primary: ...}`).
        case existing(PrimaryConnection)
    }

    /// How snapctl connects to an existing primary (`attach: {primary: {socket or host/port, user,
    /// password_env}}`).
    public struct PrimaryConnection: Sendable, Hashable, Codable {
        /// A Unix socket or TCP.
        public var endpoint: Endpoint
        /// The user steps with `on: primary` log in as.
        public var user: String
        /// The environment variable holding that user's password; `nil` means none.
        public var passwordEnv: String?

        public init(endpoint: Endpoint, user: String = Connection.defaultUser, passwordEnv: String? = nil) {
            self.endpoint = endpoint
            self.user = user
            self.passwordEnv = passwordEnv
        }
    }

    /// Which server a step's SQL runs on (`on:`).
    public enum StepServer: String, Sendable, Hashable, Codable, CaseIterable {
        /// The profiled server (the replica, when the plan has a primary).
        case server
        /// The primary; the replica's after snapshot waits until it has caught up.
        case primary
    }
}

extension Plan.Primary {
    /// Where a primary comes from.
    public typealias Source = Plan.PrimarySource
}
