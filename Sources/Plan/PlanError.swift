/// One problem with a plan, at a position in the plan file.
///
/// Printed as `plan.yaml:12:5: unknown key 'snapshot' in step 'sort'; did you mean 'snapshots'?`: the file name
/// given to ``Plan/load(yaml:fileName:options:)``, the 1-based line and column (in Unicode scalars), then what is
/// wrong and what to do, in lower case.
public struct PlanError: Error, Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// Whether the problem stops the plan from loading.
    public enum Severity: String, Sendable, Hashable, Codable {
        /// The plan does not load.
        case error
        /// The plan loads; the user should know (e.g. a label was changed to make a file name).
        case warning
    }

    /// The plan file's name as given to the loader.
    public var file: String
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, counted in Unicode scalars.
    public var column: Int
    /// What is wrong and what to do.
    public var message: String
    /// Whether this is an error or a warning.
    public var severity: Severity

    public init(file: String, line: Int, column: Int, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.severity = severity
    }

    public var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return "\(file):\(line):\(column): \(prefix)\(message)"
    }

    /// Orders by position in the file.
    public static func < (lhs: PlanError, rhs: PlanError) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// Every problem found in a plan, in file order; thrown by ``Plan/load(yaml:fileName:options:)``.
public struct PlanErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errors, sorted by position; never empty.
    public var errors: [PlanError]

    public init(_ errors: [PlanError]) {
        self.errors = errors.sorted()
    }

    /// One line per error.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
