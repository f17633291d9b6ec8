/// Snapshot labels as they appear in file names such as `snapshots/0007-before-sort.massif`.
public enum SnapshotLabel {
    /// The character that replaces each character a file name may not have.
    public static let replacement: Character = "_"

    /// Whether `character` may appear in a file name: `A-Z`, `a-z`, `0-9`, `.`, `_`, `-`.
    public static func isFileSafe(_ character: Character) -> Bool {
        guard character.isASCII, let ascii = character.asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// `label` with every character outside `[A-Za-z0-9._-]` replaced by `_`; `_` for an empty label.
    ///
    /// `SnapshotLabel.fileSafe("before sort!")` is `before_sort_`.
    public static func fileSafe(_ label: String) -> String {
        if label.isEmpty { return String(replacement) }
        return String(label.map { isFileSafe($0) ? $0 : replacement })
    }

    /// The distinct characters of `label` that ``fileSafe(_:)`` replaces, in order of first appearance.
    public static func replacedCharacters(in label: String) -> [Character] {
        var seen: [Character] = []
        for character in label where !isFileSafe(character) && !seen.contains(character) {
            seen.append(character)
        }
        return seen
    }
}
