/// What a snapshot file holds: Massif's `snapshot` (totals only) or `detailed_snapshot` (totals and the
/// heap tree). The manifest spells them `light` and `detailed`.
///
/// One type from the plan to the record: the session asks the monitor for this kind, records it, and
/// readers (report, REPL) ask it instead of comparing strings.
public enum SnapshotKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case light
    case detailed

    /// The manifest's spelling.
    public var description: String { rawValue }

    /// Whether the snapshot carries a heap tree, so that sites can be named from it.
    public var hasTree: Bool { self == .detailed }
}

/// What a step did, as the plan key that declared it (`sql`, `sql_file`, `snap`, `sleep`, `shell`,
/// `parallel`); the manifest spells it as the key.
public enum StepKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case sql
    case sqlFile = "sql_file"
    case snap
    case sleep
    case shell
    case parallel

    /// The plan key.
    public var description: String { rawValue }

    /// Whether the step runs SQL on a connection.
    public var runsSQL: Bool { self == .sql || self == .sqlFile || self == .parallel }
}
