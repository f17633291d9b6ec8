/// Finds where statements typed at the prompt end: at `;` outside quotes (`'`, `"`, backticks) and
/// comments (`-- `, `#` to the end of the line, `/* */`), as the `mariadb` client does; backslash escapes
/// inside quotes. What follows the last `;` is the start of the next statement, continued on the next line.
public enum SQLInput {
    /// Where a scan ended: in code, or inside something the next line continues.
    public enum State: Sendable, Hashable {
        case code
        case quoted(Character)
        case lineComment
        case blockComment

        /// Whether the next line continues a quote or a `/* */` comment.
        public var isOpen: Bool {
            switch self {
            case .quoted, .blockComment: return true
            case .code, .lineComment: return false
            }
        }
    }

    /// The complete statements of `text` (trimmed, without their `;`), the incomplete rest, and whether
    /// the rest ends inside a quote or comment.
    public static func scan(_ text: String) -> (statements: [String], rest: String, state: State) {
        let characters = Array(text)
        var statements: [String] = []
        var state = State.code
        var start = 0
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            switch state {
            case .code:
                switch character {
                case ";":
                    let statement = String(characters[start..<index]).trimmingWhitespace()
                    if !statement.isEmpty { statements.append(statement) }
                    start = index + 1
                case "'", "\"", "`":
                    state = .quoted(character)
                case "#":
                    state = .lineComment
                case "-" where next == "-" && (index + 2 >= characters.count || characters[index + 2].isWhitespace):
                    state = .lineComment
                case "/" where next == "*":
                    state = .blockComment
                    index += 1
                default:
                    break
                }
            case .quoted(let quote):
                if character == "\\" && quote != "`" {
                    index += 1
                } else if character == quote {
                    state = .code
                }
            case .lineComment:
                if character == "\n" { state = .code }
            case .blockComment:
                if character == "*" && next == "/" {
                    state = .code
                    index += 1
                }
            }
            index += 1
        }
        // Leading white space only: trailing spaces may be inside a quote the next line closes.
        let rest = start < characters.count ? String(characters[start...].drop { $0.isWhitespace }) : ""
        return (statements, rest, state)
    }

    /// Whether `text` has anything for the server: not only white space and comments.
    public static func hasCode(_ text: String) -> Bool {
        var stripped = ""
        var state = 0  // 0 code, 1 line comment, 2 block comment
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            switch state {
            case 0:
                if character == "#"
                    || (character == "-" && next == "-"
                        && (index + 2 >= characters.count || characters[index + 2].isWhitespace))
                {
                    state = 1
                } else if character == "/" && next == "*"
                    && !(index + 2 < characters.count
                        && (characters[index + 2] == "!" || characters[index + 2] == "+"))
                {
                    state = 2
                    index += 1
                } else {
                    stripped.append(character)
                }
            case 1:
                if character == "\n" { state = 0 }
            default:
                if character == "*" && next == "/" {
                    state = 0
                    index += 1
                }
            }
            index += 1
        }
        return !stripped.trimmingWhitespace().isEmpty
    }
}
