import Yams

extension Plan {
    /// How ``Plan/load(yaml:fileName:options:)`` reads a plan.
    public struct LoadOptions: Sendable {
        /// Reads a file named in the plan (`sql_file:`), relative to the plan file, and returns its text.
        public typealias FileReader = @Sendable (_ path: String) throws -> String

        /// Whether a plan without steps is an error; the REPL loads plans only for their setup and turns this off.
        public var requireSteps: Bool
        /// Reads `sql_file:` files so that their statements are split and checked while loading; `nil` leaves
        /// ``Plan/SQLFile/statements`` `nil` and the files unchecked.
        public var readFile: FileReader?

        public init(requireSteps: Bool = true, readFile: FileReader? = nil) {
            self.requireSteps = requireSteps
            self.readFile = readFile
        }
    }

    /// Reads and checks a whole plan, applying every default.
    ///
    /// - Parameters:
    ///   - yaml: the text of the plan file.
    ///   - fileName: how errors name the file, e.g. `plan.yaml`; also the plan's name when it has no `name:`.
    ///   - options: whether steps are required, and how to read `sql_file:` files.
    /// - Throws: ``PlanErrors`` listing every problem found, each with its line and column.
    public static func load(
        yaml: String,
        fileName: String,
        options: LoadOptions = LoadOptions()
    ) throws(PlanErrors)
        -> Plan
    {
        try loadWithWarnings(yaml: yaml, fileName: fileName, options: options).plan
    }

    /// Like ``load(yaml:fileName:options:)``, also returning warnings about a plan that loads, such as labels
    /// whose file names have characters replaced.
    public static func loadWithWarnings(
        yaml: String,
        fileName: String,
        options: LoadOptions = LoadOptions()
    ) throws(PlanErrors) -> (plan: Plan, warnings: [PlanError]) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw PlanErrors([PlanReader.translate(error, yaml: yaml, file: fileName)])
        }
        var reader = PlanReader(file: fileName, options: options)
        let plan = reader.readPlan(root)
        guard let plan, reader.errors.isEmpty else {
            throw PlanErrors(reader.errors)
        }
        return (plan, reader.warnings.sorted())
    }

    /// The plan's name when it has no `name:` key: the file name without directories and extension.
    static func defaultName(fileName: String) -> String {
        let base = fileName.split(separator: "/").last.map(String.init) ?? fileName
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }
}
