/// The one way snapctl spells numbers, sizes, durations and columns in text meant for people.
///
/// Every command, the REPL, the reports and the bundle README print through these helpers, so the same
/// quantity reads the same everywhere: a step that "took 1.23 s" in `snapctl session` took "1.23 s" in
/// `report.txt` and in the README. The conventions, one per quantity:
///
/// - Byte sizes: binary units with one decimal and a space, `45.9 MiB`; whole bytes below 1 KiB, `512 B`.
///   Heap sizes are what Massif counts, and its sizes are powers of two in the allocator's view.
/// - Changes: an explicit sign on growth (`+1.5 MiB`), the plain value for a shrink (`-1.5 MiB`) or none
///   (`0 B`), so a column of deltas is read by its first character.
/// - Exact counts: grouped by thousands with commas, `1,234,567`, as ms_print prints them.
/// - Measured durations: seconds with two decimals and a space, `1.23 s`, `0.05 s`.
/// - Limits and settings (a timeout, a wait): seconds with as few decimals as the value needs, `2 s`,
///   `0.5 s`, `0.25 s`, because a user wrote `2s`, not `2.00 s`.
/// - Shares: one decimal and a percent sign, `12.5%`.
/// - Columns: widths count characters, and neither helper ever cuts a value: a value wider than its column
///   is printed whole, so the caller puts a separator between adjacent columns.
///
/// Rounding is half away from zero everywhere, and a value that rounds to zero never gets a minus sign.
/// Pure: no I/O, no locale (a report reads the same on every machine).
public enum Format {
    // MARK: Columns

    /// `text` left-aligned in `width` columns (`%-*s`): spaces after it, never cut.
    public static func pad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }

    /// `text` right-aligned in `width` columns (`%*s`): spaces before it, never cut.
    public static func leftPad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : String(repeating: " ", count: width - count) + text
    }

    // MARK: Counts and sizes

    /// An exact count grouped by thousands: `1,234,567`, `-1,024`.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        var remaining = digits.count
        for character in digits {
            out.append(character)
            remaining -= 1
            if remaining > 0 && remaining % 3 == 0 { out.append(",") }
        }
        return out
    }

    /// A change of an exact count: `+1,234`, `-1,234`, `0`.
    public static func signedGrouped(_ value: Int) -> String {
        value > 0 ? "+" + grouped(value) : grouped(value)
    }

    /// A byte size with a binary unit: `512 B`, `1.5 KiB`, `45.9 MiB`, `-2.0 GiB`.
    public static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var amount = Double(value)
        var unit = 0
        while abs(amount) >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : decimal(amount, digits: 1) + " " + units[unit]
    }

    /// A change of a byte size: `+1.5 MiB` for growth, `-1.5 MiB` for a shrink, `0 B` for none.
    public static func signedBytes(_ value: Int) -> String {
        value > 0 ? "+" + bytes(value) : bytes(value)
    }

    // MARK: Decimals

    /// `value` with exactly `digits` decimals, like `%.*f`: `decimal(2.345, digits: 2)` is `2.35`.
    ///
    /// Rounds half away from zero; `-0.001` with two digits is `0.00`, not `-0.00`. Not finite: `nan`, `inf`.
    public static func decimal(_ value: Double, digits: Int = 1) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let digits = max(0, min(digits, 9))
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaledValue = (value * Double(scale)).rounded()
        guard abs(scaledValue) < 9e18 else { return String(value) }
        let scaled = Int(scaledValue)
        let sign = scaled < 0 ? "-" : ""
        let magnitude = scaled.magnitude
        guard digits > 0 else { return sign + String(magnitude) }
        var fraction = String(magnitude % UInt(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        return sign + String(magnitude / UInt(scale)) + "." + fraction
    }

    /// `value` with up to `digits` decimals and no trailing zeros: `2`, `0.5`, `0.25`.
    public static func compactDecimal(_ value: Double, digits: Int = 3) -> String {
        var text = decimal(value, digits: digits)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A share in percent, one decimal: `percent(12.46)` is `12.5%`.
    public static func percent(_ value: Double) -> String {
        decimal(value, digits: 1) + "%"
    }

    // MARK: Durations

    /// A measured duration: `1.23 s`, `0.05 s`.
    public static func seconds(_ value: Double) -> String {
        decimal(value, digits: 2) + " s"
    }

    /// A limit or a setting in seconds, as few decimals as it needs: `2 s`, `0.5 s`, `0.25 s`.
    public static func limitSeconds(_ value: Double) -> String {
        compactDecimal(value, digits: 3) + " s"
    }
}
