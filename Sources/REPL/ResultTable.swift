/// A result set as an aligned text table, as the `mariadb` client draws it: the first rows, then a count.
public struct ResultTable: Sendable, Hashable {
    public var columns: [String]
    /// Rows as text; `nil` is SQL NULL.
    public var rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The widest a cell is drawn; longer values end in `...`.
    public static let maximumCellWidth = 60

    /// The table with at most `limit` rows drawn, then `(N rows)` (and how many were shown when not all).
    public func render(limit: Int) -> String {
        let shown = rows.prefix(max(0, limit)).map { row in row.map(Self.cell) }
        var widths = columns.map { Self.width(Self.cell($0)) }
        for row in shown {
            for (index, value) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], Self.width(value))
            }
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+\n"
        func line(_ cells: [String], rightAligned: [Bool]) -> String {
            var out = "|"
            for (index, width) in widths.enumerated() {
                let value = index < cells.count ? cells[index] : ""
                let padding = String(repeating: " ", count: max(0, width - Self.width(value)))
                out += " " + (rightAligned[index] ? padding + value : value + padding) + " |"
            }
            return out + "\n"
        }
        // A column of numbers (NULL aside) is right-aligned, as the mariadb client does.
        let numeric = columns.indices.map { index in
            let values = rows.prefix(max(0, limit)).map { index < $0.count ? $0[index] : nil }
            return values.contains { $0 != nil } && values.allSatisfy { $0.map(Self.isNumber) ?? true }
        }
        var out = rule + line(columns.map(Self.cell), rightAligned: columns.map { _ in false }) + rule
        for row in shown { out += line(row, rightAligned: numeric) }
        if !shown.isEmpty { out += rule }
        out += Self.count(rows.count, shown: shown.count)
        return out
    }

    /// `(1 row)`, `(3 rows)`, `(25 rows, the first 20 shown)`.
    static func count(_ total: Int, shown: Int) -> String {
        let rows = total == 1 ? "1 row" : "\(total) rows"
        return shown < total ? "(\(rows), the first \(shown) shown)\n" : "(\(rows))\n"
    }

    /// A value as drawn: NULL for SQL NULL, control characters escaped, long values cut.
    static func cell(_ value: String?) -> String {
        guard let value else { return "NULL" }
        var text = ""
        for character in value {
            switch character {
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default: text.append(character)
            }
        }
        if text.count > maximumCellWidth { text = String(text.prefix(maximumCellWidth - 3)) + "..." }
        return text
    }

    /// Columns a text takes on a terminal (one per character; good enough for what servers return).
    static func width(_ text: String) -> Int { text.count }

    static func isNumber(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        var digits = 0
        for (index, character) in text.enumerated() {
            if character.isASCII && character.isNumber {
                digits += 1
            } else if !(character == "." || ((character == "-" || character == "+") && index == 0)) {
                return false
            }
        }
        return digits > 0
    }
}
