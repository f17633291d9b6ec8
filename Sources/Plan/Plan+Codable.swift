// JSON shapes that follow the plan's YAML keys, for the run manifest: `{"server": {...}}`, `{"sql": [...]}`,
// `"error": 1146`, rather than the compiler's `{"server": {"_0": {...}}}`.

extension Plan.Target {
    private enum CodingKeys: String, CodingKey {
        case server
        case attach
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let attach = try container.decodeIfPresent(Plan.Attach.self, forKey: .attach) {
            self = .attach(attach)
        } else {
            self = .server(try container.decode(Plan.Server.self, forKey: .server))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .server(let server): try container.encode(server, forKey: .server)
        case .attach(let attach): try container.encode(attach, forKey: .attach)
        }
    }
}

extension Plan.StepKind {
    private enum CodingKeys: String, CodingKey {
        case sql
        case sqlFile = "sql_file"
        case snap
        case sleep
        case shell
        case parallel
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a step kind has exactly one key")
            )
        }
        switch key {
        case .sql: self = .sql(statements: try container.decode([String].self, forKey: key))
        case .sqlFile: self = .sqlFile(try container.decode(Plan.SQLFile.self, forKey: key))
        case .snap: self = .snap
        case .sleep: self = .sleep(try container.decode(PlanDuration.self, forKey: key))
        case .shell: self = .shell(command: try container.decode(String.self, forKey: key))
        case .parallel: self = .parallel(try container.decode(Plan.Parallel.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .sql(let statements): try container.encode(statements, forKey: .sql)
        case .sqlFile(let file): try container.encode(file, forKey: .sqlFile)
        case .snap: try container.encode(true, forKey: .snap)
        case .sleep(let duration): try container.encode(duration, forKey: .sleep)
        case .shell(let command): try container.encode(command, forKey: .shell)
        case .parallel(let parallel): try container.encode(parallel, forKey: .parallel)
        }
    }
}

extension Plan.Endpoint {
    private enum CodingKeys: String, CodingKey {
        case socket
        case host
        case port
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let path = try container.decodeIfPresent(String.self, forKey: .socket) {
            self = .socket(path: path)
        } else {
            self = .tcp(
                host: try container.decode(String.self, forKey: .host),
                port: try container.decode(Int.self, forKey: .port)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .socket(let path):
            try container.encode(path, forKey: .socket)
        case .tcp(let host, let port):
            try container.encode(host, forKey: .host)
            try container.encode(port, forKey: .port)
        }
    }
}

extension Plan.ExpectedError {
    /// Decodes a number as an error code and a text as an SQLSTATE.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let code = try? container.decode(Int.self) {
            self = .code(code)
        } else {
            self = .sqlState(try container.decode(String.self))
        }
    }

    /// Encodes an error code as a number and an SQLSTATE as a text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .code(let code): try container.encode(code)
        case .sqlState(let state): try container.encode(state)
        }
    }
}

extension Plan.Step {
    private enum CodingKeys: String, CodingKey {
        case label, kind, `repeat`, snapshots, expect, maxGrowth, connection, timeout, on, catchUpTimeout
        case allocations, lensBudget
    }

    // The lens keys are written only when set, so that a plan without lenses keeps the shape it always had.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        label = try container.decode(String.self, forKey: .label)
        kind = try container.decode(Plan.StepKind.self, forKey: .kind)
        `repeat` = try container.decode(Int.self, forKey: .repeat)
        snapshots = try container.decode(Plan.StepSnapshots.self, forKey: .snapshots)
        expect = try container.decodeIfPresent(Plan.Expectation.self, forKey: .expect)
        maxGrowth = try container.decodeIfPresent(ByteSize.self, forKey: .maxGrowth)
        connection = try container.decodeIfPresent(String.self, forKey: .connection)
        timeout = try container.decodeIfPresent(PlanDuration.self, forKey: .timeout)
        on = try container.decodeIfPresent(Plan.StepServer.self, forKey: .on) ?? .server
        catchUpTimeout = try container.decodeIfPresent(PlanDuration.self, forKey: .catchUpTimeout)
        allocations = try container.decodeIfPresent(Bool.self, forKey: .allocations) ?? false
        lensBudget = try container.decodeIfPresent(Plan.LensBudget.self, forKey: .lensBudget) ?? Plan.LensBudget()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(label, forKey: .label)
        try container.encode(kind, forKey: .kind)
        try container.encode(`repeat`, forKey: .repeat)
        try container.encode(snapshots, forKey: .snapshots)
        try container.encodeIfPresent(expect, forKey: .expect)
        try container.encodeIfPresent(maxGrowth, forKey: .maxGrowth)
        try container.encodeIfPresent(connection, forKey: .connection)
        try container.encodeIfPresent(timeout, forKey: .timeout)
        try container.encode(on, forKey: .on)
        try container.encodeIfPresent(catchUpTimeout, forKey: .catchUpTimeout)
        if allocations { try container.encode(allocations, forKey: .allocations) }
        if !lensBudget.isEmpty { try container.encode(lensBudget, forKey: .lensBudget) }
    }
}

extension Plan.StepSnapshots {
    private enum CodingKeys: String, CodingKey {
        case before, after, during, peak
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        before = try container.decode(Plan.SnapshotKind.self, forKey: .before)
        after = try container.decode(Plan.SnapshotKind.self, forKey: .after)
        during = try container.decodeIfPresent(PlanDuration.self, forKey: .during)
        peak = try container.decodeIfPresent(Bool.self, forKey: .peak) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
        try container.encodeIfPresent(during, forKey: .during)
        if peak { try container.encode(peak, forKey: .peak) }
    }
}
