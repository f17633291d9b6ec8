/// A length of time written in a plan: `250ms`, `2s`, `1.5s`, `1m`, `1h`; millisecond resolution.
public struct PlanDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The length in milliseconds, 0 or more.
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// A duration of whole seconds.
    public static func seconds(_ seconds: Int64) -> PlanDuration {
        PlanDuration(milliseconds: seconds * 1000)
    }

    /// The same length as a Swift `Duration`, for sleeping and timers.
    public var duration: Duration { .milliseconds(milliseconds) }

    /// The units a plan may use, with their length in milliseconds, largest first.
    static let units: [(name: String, milliseconds: Int64)] = [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]

    /// Units people write that the plan spells differently.
    static let aliases: [String: String] = [
        "sec": "s", "secs": "s", "second": "s", "seconds": "s", "S": "s",
        "msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms", "MS": "ms",
        "min": "m", "mins": "m", "minute": "m", "minutes": "m", "M": "m",
        "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "H": "h",
    ]

    /// Reads a duration like `250ms` or `1.5s`; the error says what was expected and suggests a fix.
    public static func parse(_ text: String) throws(PlanValueError) -> PlanDuration {
        let expected = "expected a duration like 250ms or 2s, got '\(text)'"
        guard let quantity = QuantityText(text) else {
            throw PlanValueError(expected)
        }
        if quantity.isNegative {
            throw PlanValueError("\(expected), which is negative; durations are 0 or more")
        }
        if quantity.unit.isEmpty {
            throw PlanValueError("\(expected), which has no unit; did you mean '\(quantity.number)s'?")
        }
        guard let unit = units.first(where: { $0.name == quantity.unit }) else {
            let known = units.map(\.name)
            let suggestion = aliases[quantity.unit] ?? Suggestion.closest(to: quantity.unit, among: known)
            if let suggestion {
                throw PlanValueError(
                    "\(expected), whose unit '\(quantity.unit)' is unknown; did you mean '\(quantity.number)\(suggestion)'?"
                )
            }
            throw PlanValueError(
                "\(expected), whose unit '\(quantity.unit)' is unknown; use one of \(known.joined(separator: ", "))"
            )
        }
        guard let milliseconds = quantity.scaled(by: unit.milliseconds) else {
            throw PlanValueError("\(expected), which is not a whole number of milliseconds or is too long")
        }
        return PlanDuration(milliseconds: milliseconds)
    }

    /// The shortest exact spelling in the largest unit that divides it, e.g. `2s`, `1500ms`, `0s`.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        for unit in Self.units where milliseconds % unit.milliseconds == 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.name)"
        }
        return "\(milliseconds)ms"
    }

    public static func < (lhs: PlanDuration, rhs: PlanDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    /// Decodes the plan spelling, e.g. `"250ms"`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try PlanDuration.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    /// Encodes the plan spelling, e.g. `"250ms"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
