/// An amount of memory written in a plan: `64MiB`, `512KiB`, `100B`, `64MB` (decimal), `64M` (MySQL-style binary).
public struct ByteSize: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The amount in bytes, 0 or more.
    public var bytes: Int64

    public init(bytes: Int64) {
        self.bytes = bytes
    }

    /// The units a plan may use with their size in bytes. `K`, `M`, `G`, `T` (any case) are binary, as in MySQL.
    static let units: [(name: String, bytes: Int64)] = [
        ("B", 1),
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40),
        ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40),
    ]

    /// The units ``description`` writes, in order of preference.
    static let spellings: [(name: String, bytes: Int64)] = [
        ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
        ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000),
    ]

    /// Reads a size like `64MiB` or `64M`; the error says what was expected and suggests a fix.
    public static func parse(_ text: String) throws(PlanValueError) -> ByteSize {
        let expected = "expected a size like 64MiB or 512KiB, got '\(text)'"
        guard let quantity = QuantityText(text) else {
            throw PlanValueError(expected)
        }
        if quantity.isNegative {
            throw PlanValueError("\(expected), which is negative; sizes are 0 or more")
        }
        if quantity.unit.isEmpty {
            throw PlanValueError(
                "\(expected), which has no unit; did you mean '\(quantity.number)MiB' or '\(quantity.number)B'?"
            )
        }
        guard let unit = units.first(where: { $0.name == quantity.unit }) else {
            let known = units.map(\.name)
            let caseless = known.first { $0.lowercased() == quantity.unit.lowercased() }
            let alias = ["bytes": "B", "byte": "B", "b": "B"][quantity.unit.lowercased()]
            if let suggestion = caseless ?? alias ?? Suggestion.closest(to: quantity.unit, among: known) {
                throw PlanValueError(
                    "\(expected), whose unit '\(quantity.unit)' is unknown; did you mean '\(quantity.number)\(suggestion)'?"
                )
            }
            throw PlanValueError(
                "\(expected), whose unit '\(quantity.unit)' is unknown; use B, KiB, MiB, GiB, KB, MB, GB, K, M or G"
            )
        }
        guard let bytes = quantity.scaled(by: unit.bytes) else {
            throw PlanValueError("\(expected), which is not a whole number of bytes or is too large")
        }
        return ByteSize(bytes: bytes)
    }

    /// The exact spelling with the smallest number (binary units win ties), e.g. `64MiB`, `64MB`, `100B`.
    public var description: String {
        if bytes == 0 { return "0B" }
        var best = (count: bytes, name: "B")
        for unit in Self.spellings where bytes % unit.bytes == 0 && bytes / unit.bytes < best.count {
            best = (bytes / unit.bytes, unit.name)
        }
        return "\(best.count)\(best.name)"
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool {
        lhs.bytes < rhs.bytes
    }

    /// Decodes the plan spelling, e.g. `"64MiB"`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try ByteSize.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    /// Encodes the plan spelling, e.g. `"64MiB"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
