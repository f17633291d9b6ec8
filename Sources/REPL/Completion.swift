/// Tab completion at the prompt: which words fit where the cursor is.
public struct Completion: Sendable, Hashable {
    /// What completion knows about the run; the REPL refreshes it after every command.
    public struct Context: Sendable, Hashable {
        /// Snapshot labels, in the order taken.
        public var snapshotLabels: [String]
        /// Connection names.
        public var connections: [String]
        /// The loaded plan's step labels.
        public var planSteps: [String]
        /// Whether an SQL statement is being continued (then nothing is completed).
        public var continuingSQL: Bool

        public init(
            snapshotLabels: [String] = [],
            connections: [String] = [],
            planSteps: [String] = [],
            continuingSQL: Bool = false
        ) {
            self.snapshotLabels = snapshotLabels
            self.connections = connections
            self.planSteps = planSteps
            self.continuingSQL = continuingSQL
        }
    }

    /// What to offer for the word under the cursor.
    public enum Candidates: Sendable, Hashable {
        /// These words (already filtered by the prefix typed).
        case words([String])
        /// File names (the line editor's own file completion).
        case files
    }

    /// The candidates for the word `word`, given the text of the line before it.
    public static func candidates(before: String, word: String, context: Context) -> Candidates {
        if context.continuingSQL { return .words([]) }
        let previous = before.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let command = previous.first?.lowercased() else {
            return .words(matching(word, ReplCommandSet.names))
        }
        let position = previous.count
        let options = previous.dropFirst().filter { $0.hasPrefix("--") }.count
        let argument = position - options
        switch command {
        case "diff":
            if word.hasPrefix("-") { return .words(matching(word, ["--top"])) }
            if previous.last == "--top" { return .words([]) }
            return .words(argument <= 2 ? matching(word, uniqued(context.snapshotLabels.reversed())) : [])
        case "top":
            if word.hasPrefix("-") { return .words(matching(word, ["--top"])) }
            if previous.last == "--top" { return .words([]) }
            return .words(argument == 1 ? matching(word, uniqued(context.snapshotLabels.reversed())) : [])
        case "snap":
            return .words(word.hasPrefix("-") ? matching(word, ["--light"]) : [])
        case "step":
            return .words(argument == 1 ? matching(word, context.planSteps) : [])
        case "use", "connect":
            return .words(argument == 1 ? matching(word, context.connections) : [])
        case "help":
            return .words(argument == 1 ? matching(word, ReplCommandSet.names) : [])
        case "save-plan":
            return argument == 1 ? .files : .words([])
        default:
            return .words([])
        }
    }

    /// The longest text every candidate starts with (what Tab inserts when several fit).
    public static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    static func matching(_ prefix: String, _ words: [String]) -> [String] {
        words.filter { $0.hasPrefix(prefix) }
    }

    static func uniqued(_ words: some Sequence<String>) -> [String] {
        var seen: Set<String> = []
        return words.filter { seen.insert($0).inserted }
    }
}
