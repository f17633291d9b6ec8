import Plan

/// One REPL command, parsed: what the user asked for, with its arguments checked.
public enum ReplRequest: Sendable, Hashable {
    case snap(label: String, light: Bool)
    case diff(before: String, after: String, top: Int)
    /// `diff --allocated A B`: what the statements between two snapshots allocated (the allocated lens).
    case diffAllocated(before: String, after: String, top: Int)
    /// `peak`: the transient-memory lenses of the last statement.
    case peak
    case top(label: String?, count: Int)
    case snaps
    case counters
    case connect(name: String, user: String?, database: String?)
    case use(name: String)
    case step(label: String)
    case monitor(command: String)
    case report
    case help(topic: String?)
    case savePlan(path: String)
    case quit

    /// How many call paths `diff` and sites `top` show unless told.
    public static let defaultTop = 10

    /// Parses a command line whose first word is a command name.
    ///
    /// - Returns: the request, or a message naming what is wrong and the command's usage.
    public static func parse(_ line: String) -> Result<ReplRequest, ReplInputError> {
        var text = line.trimmingWhitespace()
        // `snaps;` is a command too: a trailing `;` out of SQL habit is forgiven.
        while text.hasSuffix(";") { text = String(text.dropLast()).trimmingWhitespace() }
        let name = String(text.prefix { !$0.isWhitespace }).lowercased()
        let rest = String(text.dropFirst(name.count)).trimmingWhitespace()
        let words: [String]
        switch Tokenizer.split(rest) {
        case .success(let split): words = split
        case .failure(let error): return .failure(error)
        }
        func usage(_ problem: String) -> Result<ReplRequest, ReplInputError> {
            let usage = ReplCommandSet.entry(name)?.usage ?? name
            return .failure(ReplInputError(message: "\(name): \(problem); usage: \(usage)"))
        }
        switch name {
        case "snap":
            var light = false
            var labels: [String] = []
            for word in words {
                if word == "--light" {
                    light = true
                } else if word.hasPrefix("--") {
                    return usage(unknownOption(word, among: ["--light"]))
                } else {
                    labels.append(word)
                }
            }
            guard labels.count == 1, let label = labels.first else {
                return usage(labels.isEmpty ? "a label is needed" : "one label only")
            }
            return .success(.snap(label: label, light: light))
        case "diff":
            let allocated = words.contains("--allocated")
            switch options(words.filter { $0 != "--allocated" }, count: "--top", also: ["--allocated"]) {
            case .failure(let failure): return usage(failure.message)
            case .success(let (positional, top)):
                guard positional.count == 2 else {
                    return usage("two snapshot labels are needed (snaps lists them)")
                }
                if allocated {
                    return .success(.diffAllocated(before: positional[0], after: positional[1], top: top ?? defaultTop))
                }
                return .success(.diff(before: positional[0], after: positional[1], top: top ?? defaultTop))
            }
        case "top":
            switch options(words, count: "--top") {
            case .failure(let failure): return usage(failure.message)
            case .success(let (positional, top)):
                guard positional.count <= 1 else { return usage("one snapshot label at most") }
                return .success(.top(label: positional.first, count: top ?? defaultTop))
            }
        case "peak":
            guard words.isEmpty else { return usage("it takes no arguments") }
            return .success(.peak)
        case "snaps", "counters", "report", "quit", "exit":
            guard words.isEmpty else { return usage("it takes no arguments") }
            switch name {
            case "snaps": return .success(.snaps)
            case "counters": return .success(.counters)
            case "report": return .success(.report)
            default: return .success(.quit)
            }
        case "connect":
            guard (1...2).contains(words.count) else { return usage("a connection name is needed") }
            var user: String?
            var database: String?
            if words.count == 2 {
                let spec = words[1]
                if let at = spec.firstIndex(of: "@") {
                    let before = String(spec[..<at])
                    let after = String(spec[spec.index(after: at)...])
                    user = before.isEmpty ? nil : before
                    database = after.isEmpty ? nil : after
                } else {
                    user = spec
                }
            }
            return .success(.connect(name: words[0], user: user, database: database))
        case "use":
            guard words.count == 1 else { return usage("one connection name is needed") }
            return .success(.use(name: words[0]))
        case "step":
            guard words.count == 1 else { return usage("one step label is needed") }
            return .success(.step(label: words[0]))
        case "monitor":
            guard !rest.isEmpty else { return usage("a monitor command is needed, e.g. monitor v.info stats") }
            return .success(.monitor(command: rest))
        case "help":
            guard words.count <= 1 else { return usage("one command name at most") }
            return .success(.help(topic: words.first))
        case "save-plan":
            guard words.count == 1 else { return usage("one file name is needed") }
            return .success(.savePlan(path: words[0]))
        default:
            return .failure(ReplInputError(message: "unknown command '\(name)'"))
        }
    }

    /// Positional words and the value of `--top N` (also `--top=N`).
    static func options(
        _ words: [String],
        count option: String,
        also known: [String] = []
    ) -> Result<([String], Int?), ReplInputFailure> {
        var positional: [String] = []
        var value: Int?
        var index = 0
        while index < words.count {
            let word = words[index]
            var argument: String?
            if word == option {
                index += 1
                guard index < words.count else { return .failure(ReplInputFailure("\(option) needs a number")) }
                argument = words[index]
            } else if word.hasPrefix(option + "=") {
                argument = String(word.dropFirst(option.count + 1))
            } else if word.hasPrefix("--") {
                return .failure(ReplInputFailure(unknownOption(word, among: [option] + known)))
            } else {
                positional.append(word)
            }
            if let argument {
                guard let number = Int(argument), number > 0 else {
                    return .failure(ReplInputFailure("\(option) needs a positive number, got '\(argument)'"))
                }
                value = number
            }
            index += 1
        }
        return .success((positional, value))
    }

    static func unknownOption(_ word: String, among known: [String]) -> String {
        if let near = EditDistance.closest(to: word, among: known, within: 2) {
            return "unknown option '\(word)'; did you mean '\(near)'?"
        }
        return "unknown option '\(word)'"
    }
}

/// A message for a failure inside parsing, before the command name is attached.
struct ReplInputFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Bad input at the prompt: what is wrong and what to do; the REPL shows it and goes on.
public struct ReplInputError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Splits command arguments on white space; `'...'` and `"..."` keep spaces in one word (file names).
enum Tokenizer {
    static func split(_ text: String) -> Result<[String], ReplInputError> {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open {
                    quote = nil
                } else {
                    current.append(character)
                }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if let quote {
            return .failure(ReplInputError(message: "unterminated \(quote)-quoted argument; close it with \(quote)"))
        }
        if inWord { words.append(current) }
        return .success(words)
    }
}

extension String {
    /// Without leading and trailing white space (spaces, tabs, line breaks).
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
