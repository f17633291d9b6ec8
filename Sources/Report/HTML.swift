import TextFormat

/// The small amount of HTML writing the report needs: escaping and number formatting for attributes.
///
/// Everything that reaches the page from a run (step labels, SQL, shell commands, function names with
/// `<templates>` and `operator&`, server messages) passes through ``escape(_:)``, in element content and in
/// quoted attribute values alike, so that no user text can open a tag, close an attribute or start a
/// script.
enum HTML {
    /// Text made safe for element content and for attribute values in double or single quotes.
    ///
    /// `&`, `<`, `>`, `"` and `'` become character references; NUL and the other C0 control characters
    /// except tab, line feed and carriage return (which HTML forbids and parsers replace or drop) become
    /// U+FFFD, so that what the page shows is what the bytes were, as far as HTML allows.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A coordinate or length for SVG and CSS: one decimal, no exponent, `-0` written as `0`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let text = Format.decimal(value)
        if text.hasSuffix(".0") {
            let whole = String(text.dropLast(2))
            return whole == "-0" ? "0" : whole
        }
        return text
    }

    /// A percentage for CSS widths, clamped to 0...100.
    static func percent(_ part: Double, of whole: Double) -> String {
        guard whole > 0, part.isFinite else { return "0%" }
        return number(min(100, max(0, part / whole * 100))) + "%"
    }
}
