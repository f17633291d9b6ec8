/// A `major.minor.patch` release number of valgrind or of a server, comparable so that workarounds
/// and flags can be keyed on the release that fixed or introduced something.
public struct ReleaseVersion: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    /// Creates a version from its numbers.
    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses the first word of a version text: `valgrind-3.19.0`, `valgrind-3.24.0.GIT`, `3.22`,
    /// `10.11.19-MariaDB-0+deb12u1`, `8.0`.
    ///
    /// A leading name ending in `-` (`valgrind-`) is skipped; each dotted part counts up to its first
    /// non-digit. Returns `nil` when no `major.minor` can be found.
    public init?(parsing text: some StringProtocol) {
        var word = Substring(text.split(whereSeparator: \.isWhitespace).first ?? "")
        if let dash = word.firstIndex(of: "-"), word[..<dash].allSatisfy(\.isLetter), !word[..<dash].isEmpty {
            word = word[word.index(after: dash)...]
        }
        let numbers = word.split(separator: ".", omittingEmptySubsequences: false).prefix(3).map { part in
            Int(part.prefix(while: \.isNumber))
        }
        guard numbers.count >= 2, let major = numbers[0], let minor = numbers[1] else { return nil }
        self.init(major, minor, numbers.count > 2 ? (numbers[2] ?? 0) : 0)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: ReleaseVersion, rhs: ReleaseVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
