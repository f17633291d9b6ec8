extension Plan {
    /// Massif settings (`massif:`).
    public struct MassifSettings: Sendable, Hashable, Codable {
        /// Extra Massif options, e.g. `--depth=40`.
        public var options: [String]
        /// Massif's `--time-unit`; bytes unless the plan says otherwise (see ``TimeUnit``).
        public var timeUnit: TimeUnit
        /// `pages_as_heap`: Massif's `--pages-as-heap=yes`, which measures every mapped page (mmap, brk,
        /// thread stacks) instead of malloc's blocks, so that global buffers mapped with mmap (the InnoDB
        /// buffer pool, the key cache) are seen, each under the code that maps it.
        public var pagesAsHeap: Bool

        public init(options: [String] = [], timeUnit: TimeUnit = .bytes, pagesAsHeap: Bool = false) {
            self.options = options
            self.timeUnit = timeUnit
            self.pagesAsHeap = pagesAsHeap
        }

        enum CodingKeys: String, CodingKey {
            case options, timeUnit, pagesAsHeap
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            options = try container.decode([String].self, forKey: .options)
            timeUnit = try container.decode(TimeUnit.self, forKey: .timeUnit)
            pagesAsHeap = try container.decodeIfPresent(Bool.self, forKey: .pagesAsHeap) ?? false
        }

        /// The Massif options these settings stand for, snapctl's first and then the plan's `options:`:
        /// `--time-unit` unless it is Massif's own default (`i`), `--pages-as-heap=yes` when asked.
        public var valgrindOptions: [String] {
            var result: [String] = []
            if timeUnit != .instructions { result.append("--time-unit=\(timeUnit.rawValue)") }
            if pagesAsHeap { result.append("--pages-as-heap=yes") }
            return result + options
        }
    }

    /// Massif's `--time-unit`: what the `time=` of Massif's own files counts.
    ///
    /// snapctl's default is bytes, not Massif's instructions. Why: to count instructions Massif adds a
    /// counter update to every block of code it translates and runs, and with `ms` it reads the clock (a
    /// system call under valgrind) at every allocation and free; bytes cost neither. Without the counter
    /// the embedded default reached its first step about 5% sooner (docs/architecture.md, "What the
    /// first step costs"). The heap each snapshot records (sizes, trees) does not depend on the unit,
    /// and snapctl's own timeline and step times are its own clock's; the unit sets only Massif's `time=`
    /// and how far apart Massif's own automatic snapshots in `massif.final.out` fall. Bytes also repeat
    /// best from run to run. Only a server snapctl starts gets it; an attached server counts in whatever
    /// unit it was started with.
    public enum TimeUnit: String, Sendable, Hashable, Codable, CaseIterable {
        /// Instructions executed (`i`, Massif's own default).
        case instructions = "i"
        /// Milliseconds of wall-clock time (`ms`).
        case milliseconds = "ms"
        /// Bytes allocated and deallocated (`B`, snapctl's default).
        case bytes = "B"
    }

    /// How much a snapshot records.
    public enum SnapshotKind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A full heap tree (`detailed_snapshot`).
        case detailed
        /// Totals only (`snapshot`).
        case light
        /// No snapshot.
        case none
    }

    /// Plan-wide snapshot defaults (`snapshots:`).
    public struct SnapshotDefaults: Sendable, Hashable, Codable {
        /// What each step takes before and after when the step says nothing.
        public var `default`: SnapshotKind

        public init(default: SnapshotKind = .detailed) {
            self.default = `default`
        }
    }

    /// A server counter read at every snapshot (`observe:`).
    public enum Observable: String, Sendable, Hashable, Codable, CaseIterable {
        /// MariaDB's global `Memory_used` status variable.
        case memoryUsed = "memory_used"
        /// `information_schema.PROCESSLIST`, with `MEMORY_USED` per session where the server has it.
        case processlist
        /// All of `SHOW GLOBAL STATUS`.
        case globalStatus = "global_status"
        /// `performance_schema` memory summaries, where the performance schema is enabled.
        case performanceSchema = "performance_schema"
    }

    /// A client connection steps run on (`connections:`).
    public struct Connection: Sendable, Hashable, Codable {
        /// The user connections have when they name none.
        public static let defaultUser = "root"
        /// The connection a plan has when it declares none: `main`, user `root`, no database.
        public static let main = Connection(name: "main")

        /// The name steps refer to with `connection:`.
        public var name: String
        /// The user to log in as.
        public var user: String
        /// The default database; `nil` means none.
        public var database: String?
        /// The environment variable holding the password; `nil` means no password.
        public var passwordEnv: String?

        public init(
            name: String,
            user: String = Connection.defaultUser,
            database: String? = nil,
            passwordEnv: String? = nil
        ) {
            self.name = name
            self.user = user
            self.database = database
            self.passwordEnv = passwordEnv
        }
    }

    /// The budget for the whole plan (`budget:`).
    public struct Budget: Sendable, Hashable, Codable {
        /// The largest total heap any snapshot may show; `nil` means no limit.
        public var maxHeap: ByteSize?

        public init(maxHeap: ByteSize? = nil) {
            self.maxHeap = maxHeap
        }
    }

    /// How repeated steps are checked for leaks (`leak:`).
    ///
    /// A step with `repeat: N` is flagged when the heap grew by at least ``minGrowth`` from the snapshot after
    /// its first round to the snapshot after its last round, and grew from one round to the next in at least
    /// ``minRoundsFraction`` of the rounds.
    public struct LeakCheck: Sendable, Hashable, Codable {
        /// The default `min_growth`.
        public static let defaultMinGrowth = ByteSize(bytes: 64 * 1024)
        /// The default `min_rounds_fraction`.
        public static let defaultMinRoundsFraction = 0.8

        /// The least growth, first round to last, that counts as a leak.
        public var minGrowth: ByteSize
        /// The least fraction of rounds, in (0, 1], in which the heap must grow.
        public var minRoundsFraction: Double

        public init(
            minGrowth: ByteSize = LeakCheck.defaultMinGrowth,
            minRoundsFraction: Double = LeakCheck.defaultMinRoundsFraction
        ) {
            self.minGrowth = minGrowth
            self.minRoundsFraction = minRoundsFraction
        }
    }
}
