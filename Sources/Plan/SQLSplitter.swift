/// Splits SQL text into statements the way the `mysql` and `mariadb` clients do.
///
/// Statements end at the delimiter (`;` unless a `DELIMITER` line changed it) outside quotes (`'`, `"`),
/// backticks and comments (`-- ` to the end of the line, `#` to the end of the line, `/* ... */`). Backslash
/// escapes a character inside quotes, as with the server's default `sql_mode`. A statement made only of
/// comments is dropped; comments before a statement's first word are dropped with it, other comments are
/// kept. Executable comments (`/*! ... */`, `/*+ ... */`) count as statement text.
public enum SQLSplitter {
    /// Why SQL text could not be split, with the position in that text.
    public struct SplitError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The 1-based line in the SQL text.
        public var line: Int
        /// The 1-based column (in Unicode scalars) in the SQL text.
        public var column: Int
        /// What is wrong, in lower case.
        public var message: String

        public var description: String { "\(line):\(column): \(message)" }
    }

    /// The statements of `text`, trimmed and without their delimiters.
    public static func split(_ text: String) throws(SplitError) -> [String] {
        var scanner = Scanner(text)
        return try scanner.run()
    }

    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1
        var column = 1
        var delimiter: [Unicode.Scalar] = [";"]
        var statements: [String] = []
        /// Where the current statement's text starts (its first character that is not a comment or space).
        var start: Int?

        init(_ text: String) {
            scalars = Array(text.unicodeScalars)
        }

        mutating func run() throws(SplitError) -> [String] {
            while index < scalars.count {
                if start == nil, atLineStart(), let newDelimiter = try delimiterCommand() {
                    delimiter = newDelimiter
                    continue
                }
                if matches(delimiter) {
                    finishStatement(at: index)
                    advance(delimiter.count)
                    continue
                }
                let scalar = scalars[index]
                switch scalar {
                case "'", "\"", "`":
                    markStart()
                    try skipQuoted(scalar)
                case "#":
                    skipToLineEnd()
                case "-" where peek(1) == "-" && (peek(2).map(isSpace) ?? true):
                    skipToLineEnd()
                case "/" where peek(1) == "*":
                    if peek(2) == "!" || peek(2) == "+" { markStart() }
                    try skipBlockComment()
                default:
                    if !isSpace(scalar) { markStart() }
                    advance(1)
                }
            }
            finishStatement(at: index)
            return statements
        }

        func peek(_ offset: Int) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }

        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}"
        }

        func atLineStart() -> Bool {
            var probe = index - 1
            while probe >= 0, scalars[probe] == " " || scalars[probe] == "\t" { probe -= 1 }
            return probe < 0 || scalars[probe] == "\n"
        }

        func matches(_ text: [Unicode.Scalar]) -> Bool {
            guard index + text.count <= scalars.count else { return false }
            for (offset, scalar) in text.enumerated() where scalars[index + offset] != scalar { return false }
            return true
        }

        mutating func advance(_ count: Int) {
            for _ in 0..<count where index < scalars.count {
                if scalars[index] == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                index += 1
            }
        }

        mutating func markStart() {
            if start == nil { start = index }
        }

        mutating func finishStatement(at end: Int) {
            defer { start = nil }
            guard let start else { return }
            var text = String(String.UnicodeScalarView(scalars[start..<end]))
            text = text.trimmingSpaces()
            if !text.isEmpty { statements.append(text) }
        }

        mutating func skipToLineEnd() {
            while index < scalars.count, scalars[index] != "\n" { advance(1) }
        }

        mutating func skipQuoted(_ quote: Unicode.Scalar) throws(SplitError) {
            let (openLine, openColumn) = (line, column)
            advance(1)
            while index < scalars.count {
                let scalar = scalars[index]
                if scalar == "\\" && quote != "`" {
                    advance(2)
                } else if scalar == quote {
                    advance(1)
                    return
                } else {
                    advance(1)
                }
            }
            let what = quote == "`" ? "backtick-quoted name" : "\(quote)-quoted string"
            throw SplitError(
                line: openLine,
                column: openColumn,
                message: "unterminated \(what); close it with \(quote)"
            )
        }

        mutating func skipBlockComment() throws(SplitError) {
            let (openLine, openColumn) = (line, column)
            advance(2)
            while index < scalars.count {
                if scalars[index] == "*" && peek(1) == "/" {
                    advance(2)
                    return
                }
                advance(1)
            }
            throw SplitError(line: openLine, column: openColumn, message: "unterminated /* comment; close it with */")
        }

        /// Reads a `DELIMITER xx` line at `index`, returning the new delimiter; `nil` when the line is not one.
        mutating func delimiterCommand() throws(SplitError) -> [Unicode.Scalar]? {
            let keyword = Array("delimiter".unicodeScalars)
            guard index + keyword.count < scalars.count else { return nil }
            for (offset, scalar) in keyword.enumerated() {
                guard Character(scalars[index + offset]).lowercased() == Character(scalar).lowercased() else {
                    return nil
                }
            }
            guard isSpace(scalars[index + keyword.count]) else { return nil }
            let (commandLine, commandColumn) = (line, column)
            advance(keyword.count)
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { advance(1) }
            var newDelimiter: [Unicode.Scalar] = []
            while index < scalars.count, !isSpace(scalars[index]) {
                newDelimiter.append(scalars[index])
                advance(1)
            }
            skipToLineEnd()
            if newDelimiter.isEmpty {
                throw SplitError(
                    line: commandLine,
                    column: commandColumn,
                    message: "DELIMITER needs a delimiter, e.g. DELIMITER // (and DELIMITER ; to go back)"
                )
            }
            return newDelimiter
        }
    }
}
