import Yams

extension Plan {
    /// The plan as plan.yaml text that loads back to an equal plan.
    ///
    /// Keys come in the documented order and values equal to their defaults are left out, so a plan loaded from
    /// a file and written back reads like the file. `sql_file:` steps keep their path (their statements are read
    /// again when loading); with ``inliningSQLFiles()`` first they become `sql:` steps.
    public func yaml() throws -> String {
        try Yams.serialize(node: YAMLWriter.node(for: self), width: -1)
    }

    /// This plan with every resolved `sql_file:` step turned into a `sql:` step, so it stands alone.
    public func inliningSQLFiles() -> Plan {
        var plan = self
        for index in plan.steps.indices {
            if case .sqlFile(let file) = plan.steps[index].kind, let statements = file.statements {
                plan.steps[index].kind = .sql(statements: statements)
            }
        }
        return plan
    }
}

/// Builds the YAML node tree of a plan.
enum YAMLWriter {
    static func node(for plan: Plan) -> Node {
        var pairs: [(String, Node)] = [("version", number(plan.version)), ("name", text(plan.name))]
        if let description = plan.description { pairs.append(("description", text(description))) }
        switch plan.target {
        case .server(let server):
            if server != .embeddedDefault { pairs.append(("server", node(for: server))) }
        case .attach(let attach):
            var attachNode = node(for: attach)
            if let primary = plan.primary, let existing = primary.existing,
                case .mapping(var attachPairs) = attachNode
            {
                var inner: [(String, Node)] = []
                switch existing.endpoint {
                case .socket(let path): inner.append(("socket", text(path)))
                case .tcp(let host, let port):
                    inner.append(("host", text(host)))
                    inner.append(("port", number(port)))
                }
                if existing.user != Plan.Connection.defaultUser { inner.append(("user", text(existing.user))) }
                if let passwordEnv = existing.passwordEnv { inner.append(("password_env", text(passwordEnv))) }
                if primary.catchUpTimeout != Plan.Primary.defaultCatchUpTimeout {
                    inner.append(("catch_up_timeout", text(primary.catchUpTimeout.description)))
                }
                attachPairs[Node("primary")] = mapping(inner, style: .flow)
                attachNode = .mapping(attachPairs)
            }
            pairs.append(("attach", attachNode))
        }
        if let primary = plan.primary, let server = primary.server {
            var primaryNode = node(for: server)
            if primary.catchUpTimeout != Plan.Primary.defaultCatchUpTimeout,
                case .mapping(var primaryPairs) = primaryNode
            {
                primaryPairs[Node("catch_up_timeout")] = text(primary.catchUpTimeout.description)
                primaryNode = .mapping(primaryPairs)
            }
            pairs.append(("primary", primaryNode))
        }
        if plan.massif != Plan.MassifSettings() {
            var massif: [(String, Node)] = []
            if !plan.massif.options.isEmpty { massif.append(("options", list(plan.massif.options))) }
            if plan.massif.timeUnit != Plan.MassifSettings().timeUnit {
                massif.append(("time_unit", text(plan.massif.timeUnit.rawValue)))
            }
            if plan.massif.pagesAsHeap { massif.append(("pages_as_heap", Node("true"))) }
            pairs.append(("massif", mapping(massif)))
        }
        if plan.snapshots != Plan.SnapshotDefaults() {
            pairs.append(("snapshots", mapping([("default", text(plan.snapshots.default.rawValue))])))
        }
        if plan.observe != Plan.defaultObserve { pairs.append(("observe", list(plan.observe.map(\.rawValue)))) }
        if plan.connections != [Plan.Connection.main] {
            pairs.append(("connections", .sequence(.init(plan.connections.map(node(for:))))))
        }
        if let maxHeap = plan.budget.maxHeap {
            pairs.append(("budget", mapping([("max_heap", text(maxHeap.description))])))
        }
        if plan.leak != Plan.LeakCheck() {
            var leak: [(String, Node)] = []
            if plan.leak.minGrowth != Plan.LeakCheck.defaultMinGrowth {
                leak.append(("min_growth", text(plan.leak.minGrowth.description)))
            }
            if plan.leak.minRoundsFraction != Plan.LeakCheck.defaultMinRoundsFraction {
                leak.append(("min_rounds_fraction", Node(String(plan.leak.minRoundsFraction))))
            }
            pairs.append(("leak", mapping(leak)))
        }
        if plan.allocations { pairs.append(("allocations", Node("true"))) }
        if !plan.steps.isEmpty {
            let steps = plan.steps.map {
                node(for: $0, defaultSnapshots: plan.snapshots.default, allocations: plan.allocations)
            }
            pairs.append(("steps", .sequence(.init(steps))))
        }
        return mapping(pairs)
    }

    static func node(for server: Plan.Server) -> Node {
        var pairs: [(String, Node)] = []
        if server.flavor != .auto { pairs.append(("flavor", text(server.flavor.rawValue))) }
        if let binary = server.binary { pairs.append(("binary", text(binary))) }
        if !server.options.isEmpty { pairs.append(("options", list(server.options))) }
        if !server.initSQL.isEmpty { pairs.append(("init_sql", statements(server.initSQL))) }
        if server.startupTimeout != Plan.Server.defaultStartupTimeout {
            pairs.append(("startup_timeout", text(server.startupTimeout.description)))
        }
        if !server.environment.isEmpty {
            let variables = server.environment.sorted { $0.key < $1.key }.map { ($0.key, text($0.value)) }
            pairs.append(("env", mapping(variables)))
        }
        return mapping(pairs)
    }

    static func node(for attach: Plan.Attach) -> Node {
        var pairs: [(String, Node)] = [("pid", number(Int(attach.pid)))]
        if let prefix = attach.vgdbPrefix { pairs.append(("vgdb_prefix", text(prefix))) }
        switch attach.endpoint {
        case .socket(let path)?:
            pairs.append(("socket", text(path)))
        case .tcp(let host, let port)?:
            pairs.append(("host", text(host)))
            pairs.append(("port", number(port)))
        case nil:
            break
        }
        if attach.user != Plan.Connection.defaultUser { pairs.append(("user", text(attach.user))) }
        if let passwordEnv = attach.passwordEnv { pairs.append(("password_env", text(passwordEnv))) }
        return mapping(pairs)
    }

    static func node(for connection: Plan.Connection) -> Node {
        var pairs: [(String, Node)] = [("name", text(connection.name)), ("user", text(connection.user))]
        if let database = connection.database { pairs.append(("database", text(database))) }
        if let passwordEnv = connection.passwordEnv { pairs.append(("password_env", text(passwordEnv))) }
        return mapping(pairs, style: .flow)
    }

    static func node(for step: Plan.Step, defaultSnapshots: Plan.SnapshotKind, allocations: Bool = false) -> Node {
        var pairs: [(String, Node)] = []
        switch step.kind {
        case .snap:
            if step.snapshots.after == .light {
                return mapping([("snap", text(step.label)), ("snapshots", text("light"))])
            }
            return mapping([("snap", text(step.label))])
        case .sql(let statements):
            pairs = [("label", text(step.label)), ("sql", self.statements(statements))]
        case .sqlFile(let file):
            pairs = [("label", text(step.label)), ("sql_file", text(file.path))]
        case .sleep(let duration):
            pairs = [("label", text(step.label)), ("sleep", text(duration.description))]
        case .shell(let command):
            pairs = [("label", text(step.label)), ("shell", text(command))]
        case .parallel(let parallel):
            let inner = mapping([
                ("connections", number(parallel.connections)), ("sql", statements(parallel.statements)),
            ])
            pairs = [("label", text(step.label)), ("parallel", inner)]
        }
        if step.repeat != 1 { pairs.append(("repeat", number(step.repeat))) }
        if step.snapshots != .uniform(defaultSnapshots) {
            if step.snapshots.during == nil && !step.snapshots.peak && step.snapshots.before == step.snapshots.after {
                pairs.append(("snapshots", text(step.snapshots.before.rawValue)))
            } else {
                var snapshots: [(String, Node)] = []
                if step.snapshots.before != defaultSnapshots {
                    snapshots.append(("before", text(step.snapshots.before.rawValue)))
                }
                if step.snapshots.after != defaultSnapshots {
                    snapshots.append(("after", text(step.snapshots.after.rawValue)))
                }
                if let during = step.snapshots.during { snapshots.append(("during", text(during.description))) }
                if step.snapshots.peak { snapshots.append(("peak", text("detailed"))) }
                pairs.append(("snapshots", mapping(snapshots, style: .flow)))
            }
        }
        if let expect = step.expect {
            var expectation: [(String, Node)] = []
            switch expect.error {
            case .code(let code)?: expectation.append(("error", number(code)))
            case .sqlState(let state)?: expectation.append(("error", Node(state, Tag(.str), .doubleQuoted)))
            case nil: break
            }
            if let rows = expect.rows { expectation.append(("rows", number(rows))) }
            if let warnings = expect.warnings { expectation.append(("warnings", number(warnings))) }
            pairs.append(("expect", mapping(expectation, style: .flow)))
        }
        var budget: [(String, Node)] = []
        if let maxGrowth = step.maxGrowth { budget.append(("max_growth", text(maxGrowth.description))) }
        if let maxPeak = step.lensBudget.maxPeak { budget.append(("max_peak", text(maxPeak.description))) }
        if let maxAllocated = step.lensBudget.maxAllocated {
            budget.append(("max_allocated", text(maxAllocated.description)))
        }
        if let maxAllocations = step.lensBudget.maxAllocations {
            budget.append(("max_allocations", number(maxAllocations)))
        }
        if !budget.isEmpty { pairs.append(("budget", mapping(budget, style: .flow))) }
        if step.allocations != allocations, step.kind != .snap {
            pairs.append(("allocations", Node(step.allocations ? "true" : "false")))
        }
        if let connection = step.connection { pairs.append(("connection", text(connection))) }
        if let timeout = step.timeout { pairs.append(("timeout", text(timeout.description))) }
        if step.on != .server { pairs.append(("on", text(step.on.rawValue))) }
        if let timeout = step.catchUpTimeout { pairs.append(("catch_up_timeout", text(timeout.description))) }
        return mapping(pairs)
    }

    /// Statements as one text when that text splits back into exactly them, else as a list.
    static func statements(_ statements: [String]) -> Node {
        if statements.count == 1, let only = statements.first, (try? SQLSplitter.split(only)) == [only] {
            return text(only)
        }
        return .sequence(.init(statements.map(text)))
    }

    static func mapping(_ pairs: [(String, Node)], style: Node.Mapping.Style = .block) -> Node {
        .mapping(.init(pairs.map { (Node($0.0), $0.1) }, .implicit, style))
    }

    static func list(_ items: [String]) -> Node {
        .sequence(.init(items.map(text), .implicit, .flow))
    }

    static func number(_ value: Int) -> Node {
        Node(String(value))
    }

    /// A text node, quoted when plain YAML would read it as something else, literal when it has line breaks.
    static func text(_ value: String) -> Node {
        if value.contains("\n") { return Node(value, Tag(.str), .literal) }
        let plain = Node(value)
        if plain.tag.rawValue == Tag.Name.str.rawValue && value.trimmingSpaces() == value { return plain }
        return Node(value, Tag(.str), .doubleQuoted)
    }
}
