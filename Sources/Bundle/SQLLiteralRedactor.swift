/// Replaces the string and number literals of SQL text with `?`, keeping everything else: keywords,
/// identifiers (quoted with backticks or not, including ones with digits such as `t1` or
/// `seq_1_to_1000`), variables, operators and comments.
///
/// Strings are `'...'` and `"..."` (MariaDB's default `sql_mode`), with backslash escapes and doubled
/// quotes, and with their prefixes (`X'..'`, `B'..'`, `N'..'`, `_utf8mb4'..'`); numbers are integers,
/// decimals, exponents, `0x..` and `0b..`. The text inside executable comments (`/*! ... */`) is SQL
/// and redacted; other comments are kept as they are.
public enum SQLLiteralRedactor {
    /// The statement with its literals replaced.
    public static func redact(_ sql: String) -> String {
        scan(sql).text
    }

    /// The literal values of the statement, unquoted (for finding them again in logs).
    public static func literals(_ sql: String) -> [String] {
        scan(sql).literals
    }

    static func scan(_ sql: String) -> (text: String, literals: [String]) {
        let scalars = Array(sql.unicodeScalars)
        var output = String.UnicodeScalarView()
        var literals: [String] = []
        var index = 0

        func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar == "$" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar.value >= 0x80
        }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
        func at(_ position: Int) -> Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        /// Skips a quoted string starting at `start` (its opening quote); returns the index after it and
        /// its contents.
        func skipString(_ start: Int) -> (end: Int, contents: String) {
            let quote = scalars[start]
            var position = start + 1
            var contents = String.UnicodeScalarView()
            while position < scalars.count {
                let scalar = scalars[position]
                if scalar == "\\" && position + 1 < scalars.count {
                    contents.append(scalars[position + 1])
                    position += 2
                    continue
                }
                if scalar == quote {
                    if at(position + 1) == quote {
                        contents.append(quote)
                        position += 2
                        continue
                    }
                    return (position + 1, String(contents))
                }
                contents.append(scalar)
                position += 1
            }
            return (position, String(contents))
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "'", "\"":
                let (end, contents) = skipString(index)
                literals.append(contents)
                output.append("?")
                index = end
            case "`":
                var position = index + 1
                while position < scalars.count {
                    if scalars[position] == "`" {
                        if at(position + 1) == "`" {
                            position += 2
                            continue
                        }
                        position += 1
                        break
                    }
                    position += 1
                }
                output.append(contentsOf: scalars[index..<min(position, scalars.count)])
                index = position
            case "#":
                let end = scalars[index...].firstIndex(of: "\n") ?? scalars.count
                output.append(contentsOf: scalars[index..<end])
                index = end
            case "-"
            where at(index + 1) == "-" && (at(index + 2).map { $0 == " " || $0 == "\t" || $0 == "\n" } ?? true):
                let end = scalars[index...].firstIndex(of: "\n") ?? scalars.count
                output.append(contentsOf: scalars[index..<end])
                index = end
            case "/" where at(index + 1) == "*" && at(index + 2) != "!" && at(index + 2) != "+":
                var position = index + 2
                while position < scalars.count && !(scalars[position] == "*" && at(position + 1) == "/") {
                    position += 1
                }
                let end = min(position + 2, scalars.count)
                output.append(contentsOf: scalars[index..<end])
                index = end
            default:
                if isDigit(scalar) || (scalar == "." && at(index + 1).map(isDigit) == true) {
                    // A token starting with a digit: a number unless letters make it an identifier (`1abc`).
                    var position = index
                    while let next = at(position),
                        isIdentifierScalar(next) || next == "."
                            || ((next == "+" || next == "-") && position > index
                                && (scalars[position - 1] == "e" || scalars[position - 1] == "E")
                                && !isHexPrefixed(scalars, index))
                    {
                        position += 1
                    }
                    let token = String(String.UnicodeScalarView(scalars[index..<position]))
                    if isNumber(token) {
                        literals.append(token)
                        output.append("?")
                    } else {
                        output.append(contentsOf: scalars[index..<position])
                    }
                    index = position
                } else if isIdentifierScalar(scalar) || scalar == "@" {
                    var position = index + 1
                    while let next = at(position), isIdentifierScalar(next) { position += 1 }
                    let word = String(String.UnicodeScalarView(scalars[index..<position])).lowercased()
                    // X'..', B'..', N'..' and charset introducers are part of the literal that follows.
                    let isPrefix = word == "x" || word == "b" || word == "n" || (word.hasPrefix("_") && word.count > 1)
                    if isPrefix, let quote = at(position), quote == "'" || (quote == "\"" && word.hasPrefix("_")) {
                        let (end, contents) = skipString(position)
                        literals.append(contents)
                        output.append("?")
                        index = end
                    } else {
                        output.append(contentsOf: scalars[index..<position])
                        index = position
                    }
                } else {
                    output.append(scalar)
                    index += 1
                }
            }
        }
        return (String(output), literals)
    }

    static func isHexPrefixed(_ scalars: [Unicode.Scalar], _ start: Int) -> Bool {
        start + 1 < scalars.count && scalars[start] == "0" && (scalars[start + 1] == "x" || scalars[start + 1] == "X")
    }

    /// Whether a token that starts with a digit or `.` is a number: decimal (with fraction and
    /// exponent), `0x` hex or `0b` binary.
    static func isNumber(_ token: String) -> Bool {
        let lowered = token.lowercased()
        if lowered.hasPrefix("0x") {
            return lowered.count > 2 && lowered.dropFirst(2).allSatisfy { $0.isHexDigit }
        }
        if lowered.hasPrefix("0b") && lowered.count > 2 && lowered.dropFirst(2).allSatisfy({ $0 == "0" || $0 == "1" }) {
            return true
        }
        var sawDigit = false
        var sawDot = false
        var sawExponent = false
        var previous: Character = " "
        for character in lowered {
            switch character {
            case "0"..."9": sawDigit = true
            case "." where !sawDot && !sawExponent: sawDot = true
            case "e" where sawDigit && !sawExponent: sawExponent = true
            case "+", "-":
                if previous != "e" { return false }
            default: return false
            }
            previous = character
        }
        return sawDigit && previous != "e" && previous != "+" && previous != "-"
    }
}
