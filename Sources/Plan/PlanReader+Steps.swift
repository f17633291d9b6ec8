import Yams

extension PlanReader {
    static let kindKeys = ["sql", "sql_file", "snap", "sleep", "shell", "parallel"]
    static let stepKeys =
        ["label"] + kindKeys + [
            "repeat", "snapshots", "expect", "budget", "connection", "timeout", "on", "catch_up_timeout",
            "allocations",
        ]

    /// The step kinds each modifier key goes with; every other kind refuses it.
    static let modifierKinds: [String: [String]] = [
        "repeat": ["sql", "sql_file"],
        "snapshots": ["sql", "sql_file", "snap", "sleep", "shell", "parallel"],
        "expect": ["sql", "sql_file", "parallel"],
        "budget": ["sql", "sql_file", "sleep", "shell", "parallel"],
        "connection": ["sql", "sql_file", "parallel"],
        "timeout": ["sql", "sql_file", "shell", "parallel"],
        "on": ["sql", "sql_file", "parallel"],
        "catch_up_timeout": ["sql", "sql_file", "parallel"],
        "allocations": ["sql", "sql_file", "sleep", "shell", "parallel"],
    ]

    mutating func readSteps(_ field: Field, plan: Plan) -> [Plan.Step] {
        if Self.isNull(field.value) { return [] }
        guard case .sequence(let sequence) = field.value else {
            fail(
                "'steps' in the plan: expected a list of steps like - {label: load, sql: ...}, got "
                    + Self.describe(field.value),
                at: field.value
            )
            return []
        }
        var steps: [Plan.Step] = []
        var labelLines: [String: Int] = [:]
        var fileNames: [String: (label: String, line: Int)] = [:]
        for (index, item) in sequence.enumerated() {
            guard let read = readStep(item, number: index + 1, plan: plan) else { continue }
            let line = read.labelNode.mark?.line ?? 1
            if let first = labelLines[read.label] {
                fail(
                    "duplicate label '\(read.label)' (first used at line \(first)); give each step its own label",
                    at: read.labelNode
                )
                continue
            }
            let fileName = SnapshotLabel.fileSafe(read.label)
            if let first = fileNames[fileName] {
                fail(
                    "label '\(read.label)' and label '\(first.label)' (line \(first.line)) both become the file name "
                        + "'\(fileName)'; rename one",
                    at: read.labelNode
                )
                continue
            }
            labelLines[read.label] = line
            fileNames[fileName] = (read.label, line)
            checkFileSafe(read.label, what: "label", at: read.labelNode)
            if let step = read.step { steps.append(step) }
        }
        return steps
    }

    /// One step as read: the step (`nil` when it has errors, which are reported) and its label, when it has one.
    struct ReadStep {
        var step: Plan.Step?
        var label: String
        var labelNode: Node
    }

    /// Reads one step; `nil` when it does not even have a label.
    mutating func readStep(_ node: Node, number: Int, plan: Plan) -> ReadStep? {
        var context = "step \(number)"
        if case .mapping(let mapping) = node, let label = (mapping["snap"] ?? mapping["label"])?.scalar?.string,
            !label.isEmpty
        {
            context = "step '\(label)'"
        }
        let errorCount = errors.count
        guard
            let fields = fields(node, of: context, keys: Self.stepKeys, example: "{label: load, sql: INSERT ...}")
        else { return nil }

        let kinds = fields.filter { Self.kindKeys.contains($0.key) }
        guard let kindField = kinds.first else {
            fail(
                "\(context) has no kind; give it one of \(Self.kindKeys.joined(separator: ", ")) "
                    + "(repeat, snapshots and the like only modify one)",
                at: node
            )
            return nil
        }
        if kinds.count > 1 {
            let names = kinds.map { "'\($0.key)'" }.joined(separator: " and ")
            fail("\(context) has more than one kind (\(names)); split it into one step per kind", at: kinds[1].keyNode)
            return nil
        }
        let kindKey = kindField.key

        var label: String?
        var labelNode = kindField.value
        if kindKey == "snap" {
            if let field = fields["label"] {
                fail("\(context): a snap step takes its label from snap:; remove 'label'", at: field.keyNode)
            }
            label = text(kindField, in: context)
        } else if let field = fields["label"] {
            label = text(field, in: context)
            labelNode = field.value
        } else {
            fail("\(context) has no label; add label: NAME (its snapshot files are named after it)", at: node)
        }

        for field in fields {
            guard let allowed = Self.modifierKinds[field.key], !allowed.contains(kindKey) else { continue }
            fail(
                "'\(field.key)' does not apply to a \(kindKey) step (\(context)); it goes with "
                    + allowed.joined(separator: ", ") + " steps",
                at: field.keyNode
            )
        }

        let kind = readKind(kindField, in: context)
        var step = Plan.Step(
            label: label ?? "",
            kind: kind ?? .snap,
            snapshots: kindKey == "snap" ? .uniform(.none) : .uniform(plan.snapshots.default)
        )
        step.allocations = kindKey != "snap" && plan.allocations
        if let field = fields["allocations"], let on = boolean(field, in: context) { step.allocations = on }
        if let field = fields["repeat"], let count = integer(field, in: context, minimum: 1) { step.repeat = count }
        if let field = fields["snapshots"], kindKey == "snap" {
            // A snap step is one snapshot: detailed (the default) or light.
            switch field.value.scalar?.string {
            case "detailed": break
            case "light": step.snapshots = .uniform(.light)
            default:
                fail(
                    "\(context): a snap step takes snapshots: light or snapshots: detailed, got "
                        + Self.describe(field.value),
                    at: field.value
                )
            }
        } else if let field = fields["snapshots"], let snapshots = readStepSnapshots(field, plan: plan, in: context) {
            step.snapshots = snapshots
        }
        if let field = fields["expect"] { step.expect = readExpect(field, in: context) }
        if let field = fields["budget"], let budget = readStepBudget(field, in: context) {
            step.maxGrowth = budget.maxGrowth
            step.lensBudget = budget.lenses
            checkLensBudget(budget.lenses, of: step, field: field, in: context)
        }
        if let field = fields["connection"], let name = text(field, in: context) {
            step.connection = name
            checkConnection(name, at: field.value, in: context, plan: plan)
        }
        if let field = fields["timeout"] { step.timeout = duration(field, in: context, positive: true) }
        if let field = fields["on"], let server = choice(field, in: context, as: Plan.StepServer.self) {
            step.on = server
            if server == .primary && plan.primary == nil {
                fail(
                    "\(context) runs on: primary, but the plan has no primary; add primary: beside server: (a "
                        + "primary snapctl starts) or attach: {primary: {host: ..., port: ...}} (a running one), "
                        + "or remove on: primary",
                    at: field.value
                )
            }
        }
        if let field = fields["catch_up_timeout"] {
            step.catchUpTimeout = duration(field, in: context, positive: true)
            if step.on != .primary {
                fail(
                    "'catch_up_timeout' in \(context) applies to steps with on: primary (the replica catches up "
                        + "after them); add on: primary or remove it",
                    at: field.keyNode
                )
            }
        }

        guard let label, !label.isEmpty else { return nil }
        let valid = errors.count == errorCount && kind != nil
        return ReadStep(step: valid ? step : nil, label: label, labelNode: labelNode)
    }

    mutating func readKind(_ field: Field, in context: String) -> Plan.StepKind? {
        switch field.key {
        case "sql":
            return statements(field, in: context).map { .sql(statements: $0) }
        case "sql_file":
            guard let path = text(field, in: context) else { return nil }
            return readSQLFile(path, field: field, in: context).map { .sqlFile($0) }
        case "snap":
            return .snap
        case "sleep":
            return duration(field, in: context, positive: false).map { .sleep($0) }
        case "shell":
            return text(field, in: context).map { .shell(command: $0) }
        default:
            return readParallel(field, in: context).map { .parallel($0) }
        }
    }

    /// The file named by `sql_file:`, read and split when the caller gave a file reader.
    mutating func readSQLFile(_ path: String, field: Field, in context: String) -> Plan.SQLFile? {
        var file = Plan.SQLFile(path: path)
        guard let readFile = options.readFile else { return file }
        let text: String
        do {
            text = try readFile(path)
        } catch {
            fail(
                "cannot read sql_file '\(path)' of \(context): \(error); the path is relative to the plan file",
                at: field.keyNode
            )
            return nil
        }
        do {
            let statements = try SQLSplitter.split(text)
            guard !statements.isEmpty else {
                fail(
                    "sql_file '\(path)' of \(context) has no statements; add some or remove the step",
                    at: field.keyNode
                )
                return nil
            }
            file.statements = statements
            return file
        } catch {
            fail(
                "sql_file '\(path)' of \(context): \(path):\(error.line):\(error.column): \(error.message)",
                at: field.keyNode
            )
            return nil
        }
    }

    mutating func readParallel(_ field: Field, in context: String) -> Plan.Parallel? {
        let inner = "parallel of \(context)"
        guard
            let fields = fields(
                field.value,
                of: inner,
                keys: ["connections", "sql"],
                example: "{connections: 16, sql: ...}"
            )
        else { return nil }
        var connections: Int?
        var statements: [String]?
        if let field = fields["connections"] {
            connections = integer(field, in: inner, minimum: 1)
        } else {
            fail("\(inner) needs connections: how many connections run the statements at once", at: field.value)
        }
        if let field = fields["sql"] {
            statements = self.statements(field, in: inner)
        } else {
            fail("\(inner) needs sql: the statements each connection runs", at: field.value)
        }
        guard let connections, let statements else { return nil }
        return Plan.Parallel(connections: connections, statements: statements)
    }

    mutating func readStepSnapshots(_ field: Field, plan: Plan, in context: String) -> Plan.StepSnapshots? {
        let fallback = plan.snapshots.default
        if case .scalar = field.value {
            return choice(field, in: context, as: Plan.SnapshotKind.self).map { .uniform($0) }
        }
        let inner = "snapshots of \(context)"
        let keys = ["before", "after", "during", "peak"]
        guard let fields = fields(field.value, of: inner, keys: keys, example: "{before: detailed, during: 100ms}")
        else { return nil }
        var snapshots = Plan.StepSnapshots.uniform(fallback)
        if let field = fields["before"], let kind = choice(field, in: inner, as: Plan.SnapshotKind.self) {
            snapshots.before = kind
        }
        if let field = fields["after"], let kind = choice(field, in: inner, as: Plan.SnapshotKind.self) {
            snapshots.after = kind
        }
        if let field = fields["during"], field.value.scalar?.string != "none" {
            snapshots.during = duration(field, in: inner, positive: true)
        }
        if let field = fields["peak"] {
            switch field.value.scalar?.string {
            case "detailed":
                snapshots.peak = true
                if snapshots.during == nil {
                    fail(
                        "'peak: detailed' in \(inner) samples the step with during:; add during: 100ms "
                            + "(the sampling interval)",
                        at: field.keyNode
                    )
                }
            case "none": snapshots.peak = false
            default:
                fail(
                    "'peak' in \(inner): expected detailed or none, got " + Self.describe(field.value),
                    at: field.value
                )
            }
        }
        if snapshots.peak, snapshots.before != .detailed {
            fail(
                "'peak: detailed' in \(inner) measures growth over the before snapshot, which must be detailed; "
                    + "remove before: \(snapshots.before.rawValue)",
                at: field.value
            )
        }
        return snapshots
    }

    mutating func readExpect(_ field: Field, in context: String) -> Plan.Expectation? {
        let inner = "expect of \(context)"
        guard
            let fields = fields(field.value, of: inner, keys: ["error", "rows", "warnings"], example: "{error: 1146}")
        else { return nil }
        var expectation = Plan.Expectation()
        if let field = fields["error"] { expectation.error = readExpectedError(field, in: inner) }
        if let field = fields["rows"] { expectation.rows = integer(field, in: inner, minimum: 0) }
        if let field = fields["warnings"] { expectation.warnings = integer(field, in: inner, minimum: 0) }
        return expectation
    }

    /// `error: 1146` (a number) or `error: "42S02"` (a quoted five-character SQLSTATE).
    mutating func readExpectedError(_ field: Field, in context: String) -> Plan.ExpectedError? {
        let expected = "expected an error number like 1146 or a quoted SQLSTATE like \"42S02\""
        guard case .scalar(let scalar) = field.value, !Self.isNull(field.value) else {
            fail("'error' in \(context): \(expected), got \(Self.describe(field.value))", at: field.value)
            return nil
        }
        let text = scalar.string.trimmingSpaces()
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        let isSQLState = text.count == 5 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        if let code = Int(text), !(quoted && isSQLState) {
            guard code > 0 else {
                fail("'error' in \(context): \(expected), got \(code)", at: field.value)
                return nil
            }
            return .code(code)
        }
        if isSQLState { return .sqlState(text.uppercased()) }
        fail("'error' in \(context): \(expected), got '\(text)'", at: field.value)
        return nil
    }

    /// A step's `budget:`: `max_growth` and the lens budgets.
    struct StepBudget {
        var maxGrowth: ByteSize?
        var lenses = Plan.LensBudget()
    }

    mutating func readStepBudget(_ field: Field, in context: String) -> StepBudget? {
        let inner = "budget of \(context)"
        let keys = ["max_growth", "max_peak", "max_allocated", "max_allocations"]
        guard let fields = fields(field.value, of: inner, keys: keys, example: "{max_growth: 64MiB}") else {
            return nil
        }
        if fields.isEmpty {
            fail(
                "\(inner) needs max_growth, max_peak, max_allocated or max_allocations",
                at: field.value
            )
            return nil
        }
        var budget = StepBudget()
        if let field = fields["max_growth"] { budget.maxGrowth = size(field, in: inner) }
        if let field = fields["max_peak"] { budget.lenses.maxPeak = size(field, in: inner) }
        if let field = fields["max_allocated"] { budget.lenses.maxAllocated = size(field, in: inner) }
        if let field = fields["max_allocations"] {
            budget.lenses.maxAllocations = integer(field, in: inner, minimum: 0)
        }
        return budget
    }

    /// A lens budget needs its lens: `max_peak` the peak lens, the others `allocations: true`.
    mutating func checkLensBudget(_ budget: Plan.LensBudget, of step: Plan.Step, field: Field, in context: String) {
        if budget.maxPeak != nil, !step.snapshots.peak {
            fail(
                "'max_peak' in budget of \(context) needs the peak lens; add snapshots: {during: 100ms, peak: detailed}",
                at: field.value
            )
        }
        if budget.maxAllocated != nil || budget.maxAllocations != nil, !step.allocations {
            let key = budget.maxAllocated != nil ? "max_allocated" : "max_allocations"
            fail("'\(key)' in budget of \(context) needs the allocated lens; add allocations: true", at: field.value)
        }
    }

    mutating func checkConnection(_ name: String, at node: Node, in context: String, plan: Plan) {
        let declared = plan.connections.map(\.name)
        guard !declared.contains(name) else { return }
        if let suggestion = Suggestion.closest(to: name, among: declared) {
            fail("\(context) uses connection '\(name)', which is not declared; did you mean '\(suggestion)'?", at: node)
        } else {
            fail(
                "\(context) uses connection '\(name)', which is not declared; declare it under connections: "
                    + "or use one of " + declared.map { "'\($0)'" }.joined(separator: ", "),
                at: node
            )
        }
    }
}
