/// `env.json` of a bundle: where the run was made (snapctl, Valgrind and server versions, operating
/// system, CPU), the allowed part of the environment, and what was redacted.
///
/// Only the packing machine's facts are here; the host name never is (`uname` nodename is left out).
public struct BundleEnvironment: Sendable, Hashable, Codable {
    /// The schema this snapctl writes.
    public static let currentSchema = "snapctl.bundle/1"
    /// The schema family; `snapctl.bundle/N` with N above ours is refused.
    public static let schemaFamily = "snapctl.bundle/"
    public static let currentSchemaVersion = 1

    public var schema: String
    /// When the bundle was packed, ISO 8601 UTC.
    public var packedAt: String
    public var snapctl: Snapctl
    public var valgrind: Valgrind?
    public var server: Server?
    public var os: OperatingSystem
    public var cpu: CPU
    /// Environment variables on the allow-list (``EnvironmentAllowList``) and their values.
    public var environment: [String: String]
    /// False for a bundle packed with `--redact-literals`.
    public var replayable: Bool
    /// Whether SQL literals were replaced by `?`.
    public var literalsRedacted: Bool
    /// Variables whose values were found in the run's files and replaced.
    public var redactedVariables: [String]
    /// What stands for the packing machine's host names.
    public var hostPlaceholder: String

    /// snapctl's versions.
    public struct Snapctl: Sendable, Hashable, Codable {
        /// The snapctl that packed the bundle.
        public var version: String
        /// The snapctl that made the run.
        public var runVersion: String

        public init(version: String, runVersion: String) {
            self.version = version
            self.runVersion = runVersion
        }

        enum CodingKeys: String, CodingKey {
            case version
            case runVersion = "run_version"
        }
    }

    /// The Valgrind the run used.
    public struct Valgrind: Sendable, Hashable, Codable {
        public var version: String
        /// The full command line the server ran under.
        public var command: [String]

        public init(version: String, command: [String]) {
            self.version = version
            self.command = command
        }
    }

    /// The server the run profiled.
    public struct Server: Sendable, Hashable, Codable {
        public var flavor: String
        public var version: String
        /// `managed` or `attached`.
        public var mode: String
        public var binary: String?

        public init(flavor: String, version: String, mode: String, binary: String?) {
            self.flavor = flavor
            self.version = version
            self.mode = mode
            self.binary = binary
        }
    }

    /// The packing machine's operating system.
    public struct OperatingSystem: Sendable, Hashable, Codable {
        /// `PRETTY_NAME` of /etc/os-release, e.g. `Debian GNU/Linux 12 (bookworm)`.
        public var name: String
        /// `uname` system and release, e.g. `Linux 6.1.0-27-amd64`.
        public var kernel: String
        /// `uname` machine, e.g. `x86_64`.
        public var machine: String

        public init(name: String, kernel: String, machine: String) {
            self.name = name
            self.kernel = kernel
            self.machine = machine
        }
    }

    /// The packing machine's processor.
    public struct CPU: Sendable, Hashable, Codable {
        /// `model name` of /proc/cpuinfo.
        public var model: String
        /// Online processors.
        public var count: Int

        public init(model: String, count: Int) {
            self.model = model
            self.count = count
        }
    }

    public init(
        packedAt: String,
        snapctl: Snapctl,
        valgrind: Valgrind?,
        server: Server?,
        os: OperatingSystem,
        cpu: CPU,
        environment: [String: String],
        literalsRedacted: Bool,
        redactedVariables: [String],
        hostPlaceholder: String
    ) {
        self.schema = Self.currentSchema
        self.packedAt = packedAt
        self.snapctl = snapctl
        self.valgrind = valgrind
        self.server = server
        self.os = os
        self.cpu = cpu
        self.environment = environment
        self.replayable = !literalsRedacted
        self.literalsRedacted = literalsRedacted
        self.redactedVariables = redactedVariables
        self.hostPlaceholder = hostPlaceholder
    }

    enum CodingKeys: String, CodingKey {
        case schema, snapctl, valgrind, server, os, cpu, environment, replayable
        case packedAt = "packed_at"
        case literalsRedacted = "literals_redacted"
        case redactedVariables = "redacted_variables"
        case hostPlaceholder = "host_placeholder"
    }
}
