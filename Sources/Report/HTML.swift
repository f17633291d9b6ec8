import TextFormat

/// The small amount of HTML writing the report needs: escaping and number formatting for attributes.
///
/// Everything that reaches the page from a run (step labels, SQL, shell commands, function names with
/// `<templates>` and `operator&`, server messages) passes through ``escape(_:)``, in element content and in
/// quoted attribute values alike, so that no user text can open a tag, close an attribute or start a
/// script.
enum HTML {
    /// Whether a byte of UTF-8 text is one ``escape(_:)`` replaces: a control byte or one of `&<>"'`.
    private static func needsEscape(_ byte: UInt8) -> Bool {
        switch byte {
        case 0..<0x20, 0x7F, UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""),
            UInt8(ascii: "'"):
            return true
        default:
            return false
        }
    }

    /// Text made safe for element content and for attribute values in double or single quotes.
    ///
    /// `&`, `<`, `>`, `"` and `'` become character references; NUL and the other C0 control characters
    /// except tab, line feed and carriage return (which HTML forbids and parsers replace or drop) become
    /// U+FFFD, so that what the page shows is what the bytes were, as far as HTML allows.
    static func escape(_ text: String) -> String {
        // Most text (function names, figures) needs nothing: checked on its bytes, returned as it is.
        if !text.utf8.contains(where: needsEscape) { return text }
        // On the UTF-8 bytes: every byte replaced is ASCII, so multi-byte characters pass through whole.
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
            case UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): out.append(byte)
            case 0..<0x20, 0x7F: out += [0xEF, 0xBF, 0xBD]  // U+FFFD
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
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
