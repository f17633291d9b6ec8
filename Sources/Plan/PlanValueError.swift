/// A scalar value that does not parse, e.g. a duration without a unit; the message says what was expected.
public struct PlanValueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong and what to write instead, in lower case.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// A non-negative decimal with an optional fraction and a unit, e.g. `1.5` and `s` in `1.5s`.
struct QuantityText {
    var whole: Int64
    var fraction: String
    var unit: String
    var isNegative: Bool

    /// Splits `text` into number and unit; `nil` when it does not start with a number.
    init?(_ text: String) {
        var rest = Substring(text.trimmingSpaces())
        isNegative = rest.first == "-"
        if isNegative || rest.first == "+" { rest = rest.dropFirst() }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        rest = rest.dropFirst(digits.count)
        var fractionDigits = Substring()
        if rest.first == "." {
            fractionDigits = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(1 + fractionDigits.count)
        }
        guard !digits.isEmpty || !fractionDigits.isEmpty, let whole = Int64(digits.isEmpty ? "0" : digits)
        else { return nil }
        self.whole = whole
        self.fraction = String(fractionDigits)
        self.unit = String(rest).trimmingSpaces()
    }

    /// The number times `scale`, when that is a whole number that fits in an Int64.
    func scaled(by scale: Int64) -> Int64? {
        let (wholePart, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        for digit in fraction {
            guard let value = digit.wholeNumberValue, denominator < Int64.max / 100 else { return nil }
            numerator = numerator * 10 + Int64(value)
            denominator *= 10
        }
        let (fractionScaled, overflow2) = numerator.multipliedReportingOverflow(by: scale)
        guard !overflow2, fractionScaled % denominator == 0 else { return nil }
        let (total, overflow3) = wholePart.addingReportingOverflow(fractionScaled / denominator)
        return overflow3 ? nil : total
    }

    /// The number as written, without sign or unit.
    var number: String { fraction.isEmpty ? String(whole) : "\(whole).\(fraction)" }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
