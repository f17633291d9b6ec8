/// A snapctl plan: the server to run (or attach to), how to profile it, and the steps to drive it through.
///
/// Build one with ``Plan/load(yaml:fileName:options:)``; write one back with ``Plan/yaml()``. Every default is
/// applied when loading, so consumers read resolved values and never look for missing keys. See docs/plan.md.
public struct Plan: Sendable, Hashable, Codable {
    /// The newest plan format this snapctl reads (and the one ``yaml()`` writes).
    public static let currentVersion = 1

    /// The plan format version, `version:` in the file.
    public var version: Int
    /// The plan's name; the run directory is `runs/<SnapshotLabel.fileSafe(name)>-<UTC time>`.
    public var name: String
    /// Free text for humans.
    public var description: String?
    /// Which server the session profiles: one it starts, or one already running under valgrind.
    public var target: Target
    /// The primary the profiled server replicates from; `nil` when it is not a replica.
    public var primary: Primary?
    /// Massif settings.
    public var massif: MassifSettings
    /// What each step snapshots when the step says nothing.
    public var snapshots: SnapshotDefaults
    /// Server counters read at every snapshot.
    public var observe: [Observable]
    /// The client connections steps run on; the first one is the default.
    public var connections: [Connection]
    /// The budget for the whole plan.
    public var budget: Budget
    /// How repeated steps are checked for leaks.
    public var leak: LeakCheck
    /// The steps, in order.
    public var steps: [Step]
    /// The top-level `allocations:`: the default of every step's (``Step/allocations`` is resolved).
    public var allocations: Bool = false

    public init(
        version: Int = Plan.currentVersion,
        name: String,
        description: String? = nil,
        target: Target = .server(.embeddedDefault),
        primary: Primary? = nil,
        massif: MassifSettings = MassifSettings(),
        snapshots: SnapshotDefaults = SnapshotDefaults(),
        observe: [Observable] = Plan.defaultObserve,
        connections: [Connection] = [Connection.main],
        budget: Budget = Budget(),
        leak: LeakCheck = LeakCheck(),
        steps: [Step] = []
    ) {
        self.version = version
        self.name = name
        self.description = description
        self.target = target
        self.primary = primary
        self.massif = massif
        self.snapshots = snapshots
        self.observe = observe
        self.connections = connections
        self.budget = budget
        self.leak = leak
        self.steps = steps
    }

    /// The counters observed when a plan has no `observe:` key.
    public static let defaultObserve: [Observable] = [.memoryUsed]

    /// A plan with no steps that runs the embedded default server: what `snapctl repl` starts from.
    public static func embeddedDefault(name: String = "default") -> Plan {
        Plan(name: name)
    }

    /// True when some step asks for the allocated lens: the server then runs with `--xtree-memory=full`.
    /// (The top-level key counts too: `snapctl repl` gives its statements the plan's `allocations`.)
    public var wantsAllocations: Bool { allocations || steps.contains { $0.allocations } }

    /// The connection a step runs on: the one it names, else the first declared connection.
    public func connection(for step: Step) -> Connection? {
        guard let name = step.connection else { return connections.first }
        return connections.first { $0.name == name }
    }
}

extension Plan {
    /// The server a session profiles.
    public enum Target: Sendable, Hashable, Codable {
        /// snapctl starts the server under valgrind (`server:`, or nothing for the embedded default).
        case server(Server)
        /// snapctl attaches to a server already running under `valgrind --tool=massif --vgdb=yes` (`attach:`).
        case attach(Attach)

        /// The server settings when snapctl starts the server.
        public var server: Server? {
            if case .server(let server) = self { return server }
            return nil
        }

        /// The attach settings when snapctl attaches to a running server.
        public var attach: Attach? {
            if case .attach(let attach) = self { return attach }
            return nil
        }
    }
}
