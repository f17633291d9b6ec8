import Yams

extension PlanReader {
    static let topKeys = [
        "version", "name", "description", "server", "attach", "primary", "massif", "snapshots", "observe",
        "connections",
        "budget", "leak", "allocations", "steps",
    ]

    /// The whole plan; `nil` when it is too broken to build (the errors say why).
    mutating func readPlan(_ root: Node?) -> Plan? {
        guard let root, !Self.isNull(root) else {
            fail("the plan is empty; start it with version: 1, then name: and steps:", at: root)
            return nil
        }
        guard let top = fields(root, of: "the plan", keys: Self.topKeys, example: "version: 1, name: ..., steps: [...]")
        else { return nil }

        var plan = Plan(name: Plan.defaultName(fileName: file))
        guard readVersion(top["version"], root: root) else { return nil }

        if let field = top["name"], let name = text(field, in: "the plan") {
            plan.name = name
            checkFileSafe(name, what: "name", at: field.value)
        }
        if let field = top["description"] {
            plan.description = text(field, in: "the plan", allowEmpty: true)
        }
        if let server = top["server"], let attach = top["attach"] {
            fail(
                "the plan has both 'server' (snapctl starts a server, line \(server.keyNode.mark?.line ?? 1)) and "
                    + "'attach' (snapctl attaches to a running one); keep one",
                at: attach.keyNode
            )
        } else if let field = top["attach"] {
            if let attach = readAttach(field) { plan.target = .attach(attach) }
            plan.primary = readAttachedPrimary(field)
        } else if let field = top["server"] {
            if let server = readServer(field) { plan.target = .server(server) }
        }
        if let field = top["primary"] {
            if top["attach"] != nil {
                fail(
                    "'primary' beside 'attach' would start a new primary for a replica that already has one; "
                        + "give the running primary's connection inside attach instead, e.g. attach: {pid: 4242, "
                        + "socket: /run/mysqld/replica.sock, primary: {host: 127.0.0.1, port: 3306, user: repl}}",
                    at: field.keyNode
                )
            } else {
                plan.primary = readPrimary(field)
            }
        }
        if let field = top["massif"] { plan.massif = readMassif(field) }
        if let field = top["snapshots"] { plan.snapshots = readSnapshotDefaults(field) }
        if let field = top["observe"] { plan.observe = readObserve(field) }
        // Connections that name no user log in as attach's user (root unless attach says otherwise).
        let template = Plan.Connection(
            name: Plan.Connection.main.name,
            user: plan.target.attach?.user ?? Plan.Connection.defaultUser,
            passwordEnv: plan.target.attach?.passwordEnv
        )
        plan.connections = [template]
        if let field = top["connections"] { plan.connections = readConnections(field, template: template) }
        if let field = top["budget"] { plan.budget = readBudget(field) }
        if let field = top["leak"] { plan.leak = readLeak(field) }
        if let field = top["allocations"], let on = boolean(field, in: "the plan") { plan.allocations = on }

        if let field = top["steps"] {
            plan.steps = readSteps(field, plan: plan)
        }
        let noSteps: Bool
        switch top["steps"]?.value {
        case nil: noSteps = true
        case .sequence(let sequence)?: noSteps = sequence.isEmpty
        case let value?: noSteps = Self.isNull(value)
        }
        if noSteps && options.requireSteps {
            let node = top["steps"]?.keyNode
            fail(
                "the plan has no steps; add steps: with at least one step, e.g. - {label: first, sql: SELECT 1}",
                at: node ?? root
            )
        }
        return plan
    }

    /// Checks `version:`; `false` when the rest of the plan should not be read (a newer format).
    mutating func readVersion(_ field: Field?, root: Node) -> Bool {
        guard let field else {
            fail("the plan has no version; add version: \(Plan.currentVersion) as its first line", at: root)
            return true
        }
        guard let version = integer(field, in: "the plan", minimum: 1) else { return true }
        if version > Plan.currentVersion {
            errors.removeAll()
            fail(
                "this plan is format version \(version), but this snapctl reads plan versions up to "
                    + "\(Plan.currentVersion); use a newer snapctl that reads plan version \(version)",
                at: field.value
            )
            return false
        }
        return true
    }

    /// Warns when a name that becomes a file name has characters replaced.
    mutating func checkFileSafe(_ name: String, what: String, at node: Node) {
        let replaced = SnapshotLabel.replacedCharacters(in: name)
        guard !replaced.isEmpty else { return }
        let list = replaced.map { "'\($0)'" }.joined(separator: ", ")
        warn(
            "\(what) '\(name)' becomes '\(SnapshotLabel.fileSafe(name))' in file names (\(list) replaced by "
                + "'\(SnapshotLabel.replacement)'); use only A-Z, a-z, 0-9, '.', '_' and '-' to keep it as written",
            at: node
        )
    }

    static let serverKeys = ["flavor", "binary", "options", "init_sql", "startup_timeout", "env"]

    mutating func readServer(_ field: Field) -> Plan.Server? {
        if Self.isNull(field.value) { return Plan.Server() }
        let context = "server"
        guard
            let fields = fields(
                field.value,
                of: context,
                keys: Self.serverKeys,
                example: "{flavor: mariadb, binary: mariadbd}"
            )
        else { return nil }
        return readServerFields(fields, in: context)
    }

    /// `primary:` beside `server:`: the same keys as `server:`, and `catch_up_timeout`.
    mutating func readPrimary(_ field: Field) -> Plan.Primary? {
        if Self.isNull(field.value) { return Plan.Primary(source: .server(Plan.Server())) }
        let context = "primary"
        guard
            let fields = fields(
                field.value,
                of: context,
                keys: Self.serverKeys + ["catch_up_timeout"],
                example: "{options: [--binlog-format=ROW], catch_up_timeout: 30s}"
            )
        else { return nil }
        var primary = Plan.Primary(source: .server(readServerFields(fields, in: context)))
        if let field = fields["catch_up_timeout"], let timeout = duration(field, in: context, positive: true) {
            primary.catchUpTimeout = timeout
        }
        return primary
    }

    /// `primary:` inside `attach:`: how to reach the primary the attached replica replicates from.
    mutating func readAttachedPrimary(_ attachField: Field) -> Plan.Primary? {
        guard case .mapping(let mapping) = attachField.value,
            let (keyNode, value) = mapping.first(where: { $0.key.scalar?.string == "primary" })
        else { return nil }
        let context = "primary of attach"
        let keys = ["socket", "host", "port", "user", "password_env", "catch_up_timeout"]
        let example = "{host: 127.0.0.1, port: 3306, user: repl, password_env: PRIMARY_PWD}"
        if Self.isNull(value) {
            fail(
                "'primary' in attach has no connection; say how to reach the running primary with socket: or "
                    + "host: (and port:), e.g. primary: \(example)",
                at: keyNode
            )
            return nil
        }
        guard let fields = fields(value, of: context, keys: keys, example: example) else { return nil }
        guard let endpoint = readEndpoint(fields, in: context, at: keyNode) else {
            if fields["socket"] == nil && fields["host"] == nil {
                fail(
                    "'primary' in attach has no connection; say how to reach the running primary with socket: or "
                        + "host: (and port:), e.g. primary: \(example)",
                    at: keyNode
                )
            }
            return nil
        }
        var connection = Plan.PrimaryConnection(endpoint: endpoint)
        if let field = fields["user"], let user = text(field, in: context) { connection.user = user }
        if let field = fields["password_env"] { connection.passwordEnv = environmentName(field, in: context) }
        var primary = Plan.Primary(source: .existing(connection))
        if let field = fields["catch_up_timeout"], let timeout = duration(field, in: context, positive: true) {
            primary.catchUpTimeout = timeout
        }
        return primary
    }

    /// `socket:` or `host:` with an optional `port:`; `nil` (after reporting what is wrong) without one.
    mutating func readEndpoint(_ fields: [Field], in context: String, at node: Node) -> Plan.Endpoint? {
        let socket = fields["socket"]
        let host = fields["host"]
        if let socket, host != nil {
            fail("\(context) has both 'socket' and 'host'; connect through one of them", at: socket.keyNode)
            return nil
        } else if let socket {
            if let port = fields["port"] {
                fail("'port' in \(context) goes with 'host', not 'socket'; remove it or use host:", at: port.keyNode)
            }
            return text(socket, in: context).map { .socket(path: $0) }
        } else if let host {
            var port = Plan.Endpoint.defaultPort
            if let field = fields["port"], let value = integer(field, in: context, minimum: 1) {
                if value > 65535 {
                    fail("'port' in \(context): expected a TCP port from 1 to 65535, got \(value)", at: field.value)
                }
                port = value
            }
            return text(host, in: context).map { .tcp(host: $0, port: port) }
        } else if let port = fields["port"] {
            fail("'port' in \(context) needs 'host'; add host: 127.0.0.1", at: port.keyNode)
        }
        return nil
    }

    /// The keys `server:` and `primary:` share.
    mutating func readServerFields(_ fields: [Field], in context: String) -> Plan.Server {
        var server = Plan.Server()
        if let field = fields["flavor"], let flavor = choice(field, in: context, as: Plan.Flavor.self) {
            server.flavor = flavor
        }
        if let field = fields["binary"] { server.binary = text(field, in: context) }
        if let field = fields["options"], let options = textList(field, in: context) { server.options = options }
        if let field = fields["init_sql"], let statements = statements(field, in: context, allowEmpty: true) {
            server.initSQL = statements
        }
        if let field = fields["startup_timeout"], let timeout = duration(field, in: context, positive: true) {
            server.startupTimeout = timeout
        }
        if let field = fields["env"] { server.environment = readEnvironment(field) }
        return server
    }

    /// `env:` of server: a mapping of variable names to texts.
    mutating func readEnvironment(_ field: Field) -> [String: String] {
        if Self.isNull(field.value) { return [:] }
        let example = "{LD_PRELOAD: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2}"
        guard case .mapping(let mapping) = field.value else {
            fail(
                "'env' in server: expected a mapping like \(example), got \(Self.describe(field.value))",
                at: field.value
            )
            return [:]
        }
        var environment: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                fail("'env' in server: variable names must be plain names, got \(Self.describe(keyNode))", at: keyNode)
                continue
            }
            let name = keyScalar.string
            let valid =
                name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
                && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            guard valid else {
                fail(
                    "'env' in server: '\(name)' is not an environment variable name; use letters, digits and '_', "
                        + "not starting with a digit (e.g. LD_PRELOAD)",
                    at: keyNode
                )
                continue
            }
            if ["MYSQL_PWD", "MARIADB_PWD"].contains(name) {
                fail(
                    "'env' in server: \(name) holds a password, and a plan never contains one; set it in snapctl's "
                        + "own environment instead",
                    at: keyNode
                )
                continue
            }
            guard case .scalar(let scalar) = value, !Self.isNull(value) else {
                fail(
                    "'env' in server: \(name): expected text, got \(Self.describe(value)); write \(name): '' for an "
                        + "empty value",
                    at: value
                )
                continue
            }
            if environment[name] != nil {
                fail("'env' in server sets \(name) twice; keep one", at: keyNode)
                continue
            }
            environment[name] = scalar.string
        }
        return environment
    }

    mutating func readAttach(_ field: Field) -> Plan.Attach? {
        let context = "attach"
        let keys = ["pid", "vgdb_prefix", "socket", "host", "port", "user", "password_env", "primary"]
        guard
            let fields = fields(field.value, of: context, keys: keys, example: "{pid: 4242, socket: /run/mysqld.sock}")
        else { return nil }
        var attach = Plan.Attach(pid: 0)
        if let field = fields["pid"] {
            if let pid = integer(field, in: context, minimum: 1) {
                if let pid32 = Int32(exactly: pid) {
                    attach.pid = pid32
                } else {
                    fail("'pid' in attach: expected a process id, got \(pid)", at: field.value)
                }
            }
        } else {
            fail(
                "attach needs pid: the process id of the valgrind running the server with --vgdb=yes",
                at: field.keyNode
            )
        }
        if let field = fields["vgdb_prefix"] { attach.vgdbPrefix = text(field, in: context) }
        let socket = fields["socket"]
        let host = fields["host"]
        if let socket, host != nil {
            fail("attach has both 'socket' and 'host'; connect through one of them", at: socket.keyNode)
        } else if let socket {
            if let path = text(socket, in: context) { attach.endpoint = .socket(path: path) }
            if let port = fields["port"] {
                fail("'port' in attach goes with 'host', not 'socket'; remove it or use host:", at: port.keyNode)
            }
        } else if let host {
            var port = Plan.Endpoint.defaultPort
            if let field = fields["port"], let value = integer(field, in: context, minimum: 1) {
                if value > 65535 {
                    fail("'port' in attach: expected a TCP port from 1 to 65535, got \(value)", at: field.value)
                }
                port = value
            }
            if let name = text(host, in: context) { attach.endpoint = .tcp(host: name, port: port) }
        } else if let port = fields["port"] {
            fail("'port' in attach needs 'host'; add host: 127.0.0.1", at: port.keyNode)
        }
        if let field = fields["user"], let user = text(field, in: context) { attach.user = user }
        if let field = fields["password_env"] { attach.passwordEnv = environmentName(field, in: context) }
        return attach
    }

    mutating func readMassif(_ field: Field) -> Plan.MassifSettings {
        var massif = Plan.MassifSettings()
        if Self.isNull(field.value) { return massif }
        let context = "massif"
        let keys = ["options", "time_unit", "pages_as_heap"]
        guard let fields = fields(field.value, of: context, keys: keys, example: "{time_unit: B}") else {
            return massif
        }
        if let field = fields["options"], let options = textList(field, in: context) { massif.options = options }
        if let field = fields["time_unit"], let unit = choice(field, in: context, as: Plan.TimeUnit.self) {
            massif.timeUnit = unit
        }
        if let field = fields["pages_as_heap"], let value = boolean(field, in: context) { massif.pagesAsHeap = value }
        for option in massif.options where option.hasPrefix("--pages-as-heap") {
            if let field = fields["options"] {
                fail(
                    "'options' in massif has \(option); write pages_as_heap: true instead, so that the report "
                        + "knows the snapshots count pages",
                    at: field.value
                )
            }
        }
        // valgrind would hold the ending server for a debugger: snapctl's stop would wait for nothing, kill it,
        // and lose Massif's final file. valgrind takes the last of a repeated option, and so does this check.
        if let option = massif.options.last(where: { $0.hasPrefix("--vgdb-stop-at=") }) {
            let events = option.dropFirst("--vgdb-stop-at=".count).split(separator: ",")
            if events.contains("exit") || events.contains("all"), let field = fields["options"] {
                fail(
                    "'options' in massif has \(option): valgrind would wait at the server's exit for a debugger, "
                        + "and snapctl, which stops the server itself, would have to kill it and lose Massif's "
                        + "final file; leave exit out (startup is fine)",
                    at: field.value
                )
            }
        }
        return massif
    }

    mutating func readSnapshotDefaults(_ field: Field) -> Plan.SnapshotDefaults {
        var defaults = Plan.SnapshotDefaults()
        if Self.isNull(field.value) { return defaults }
        if case .scalar = field.value {
            if let kind = choice(field, in: "the plan", as: Plan.SnapshotKind.self) { defaults.default = kind }
            return defaults
        }
        let context = "snapshots"
        guard let fields = fields(field.value, of: context, keys: ["default"], example: "{default: detailed}")
        else { return defaults }
        if let field = fields["default"], let kind = choice(field, in: context, as: Plan.SnapshotKind.self) {
            defaults.default = kind
        }
        return defaults
    }

    mutating func readObserve(_ field: Field) -> [Plan.Observable] {
        if Self.isNull(field.value) { return [] }
        let items: [Node]
        switch field.value {
        case .sequence(let sequence): items = Array(sequence)
        case .scalar: items = [field.value]
        default:
            fail(
                "'observe' in the plan: expected a list like [memory_used, processlist], got "
                    + Self.describe(field.value),
                at: field.value
            )
            return Plan.defaultObserve
        }
        var observe: [Plan.Observable] = []
        for item in items {
            guard let value = choice(item, key: "observe", in: "the plan", as: Plan.Observable.self) else { continue }
            if observe.contains(value) {
                fail("'observe' in the plan lists '\(value.rawValue)' twice; remove one", at: item)
            } else {
                observe.append(value)
            }
        }
        return observe
    }

    /// The declared connections; `template` gives the user and password variable of those that name none.
    mutating func readConnections(_ field: Field, template: Plan.Connection) -> [Plan.Connection] {
        guard case .sequence(let sequence) = field.value, !sequence.isEmpty else {
            fail(
                "'connections' in the plan: expected a list like [{name: main, user: root}], got "
                    + "\(Self.describe(field.value)); leave the key out for one connection 'main' as root",
                at: field.value
            )
            return [template]
        }
        var connections: [Plan.Connection] = []
        var firstLine: [String: Int] = [:]
        for (index, item) in sequence.enumerated() {
            let context = "connection \(index + 1)"
            let keys = ["name", "user", "database", "password_env"]
            guard let fields = fields(item, of: context, keys: keys, example: "{name: main, user: root}") else {
                continue
            }
            guard let nameField = fields["name"] else {
                fail("connection \(index + 1) has no name; add name: so steps can refer to it", at: item)
                continue
            }
            guard let name = text(nameField, in: context) else { continue }
            let named = "connection '\(name)'"
            var connection = Plan.Connection(name: name, user: template.user, passwordEnv: template.passwordEnv)
            if let field = fields["user"], let user = text(field, in: named) {
                connection.user = user
                connection.passwordEnv = nil
            }
            if let field = fields["database"] { connection.database = text(field, in: named) }
            if let field = fields["password_env"] { connection.passwordEnv = environmentName(field, in: named) }
            if let line = firstLine[name] {
                fail("duplicate connection name '\(name)' (first at line \(line)); rename one", at: nameField.value)
                continue
            }
            firstLine[name] = nameField.value.mark?.line ?? 1
            connections.append(connection)
        }
        return connections.isEmpty ? [template] : connections
    }

    mutating func readBudget(_ field: Field) -> Plan.Budget {
        var budget = Plan.Budget()
        if Self.isNull(field.value) { return budget }
        let context = "budget"
        guard let fields = fields(field.value, of: context, keys: ["max_heap"], example: "{max_heap: 1GiB}") else {
            return budget
        }
        if let field = fields["max_heap"] { budget.maxHeap = size(field, in: context) }
        return budget
    }

    mutating func readLeak(_ field: Field) -> Plan.LeakCheck {
        var leak = Plan.LeakCheck()
        if Self.isNull(field.value) { return leak }
        let context = "leak"
        let keys = ["min_growth", "min_rounds_fraction"]
        guard let fields = fields(field.value, of: context, keys: keys, example: "{min_growth: 64KiB}") else {
            return leak
        }
        if let field = fields["min_growth"], let size = size(field, in: context) { leak.minGrowth = size }
        if let field = fields["min_rounds_fraction"] {
            if case .scalar(let scalar) = field.value, let fraction = Double(scalar.string.trimmingSpaces()),
                fraction > 0, fraction <= 1
            {
                leak.minRoundsFraction = fraction
            } else {
                fail(
                    "'min_rounds_fraction' in leak: expected a fraction above 0 and at most 1, like 0.8, got "
                        + Self.describe(field.value),
                    at: field.value
                )
            }
        }
        return leak
    }
}
