/// The one error type of the `Massif` module: a massif file that cannot be read, or files that cannot be merged.
///
/// It always names the file and, when it comes from a line, the 1-based line number, what the grammar expected
/// there and what was found, so that a user can open the file at that line. `ms_print.in` reports the same
/// things (`die "Line N: expected ..."`); we add the file name and never stop at the first `#`.
public struct MassifError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file name as the caller gave it to the parser (a path, or a label such as `<stdin>`).
    public var fileName: String
    /// The 1-based line number, or `nil` when the error is about the file as a whole.
    public var line: Int?
    /// What the grammar allowed at this point, in lower-case words (`"a \"time=\" line"`).
    public var expected: String
    /// What was there instead: the offending line (shortened, control bytes escaped) or `end of file`.
    public var found: String

    public init(fileName: String, line: Int?, expected: String, found: String) {
        self.fileName = fileName
        self.line = line
        self.expected = expected
        self.found = found
    }

    /// `FILE:LINE: expected ..., got ...`, the shape compilers use, so editors can jump to the line.
    public var description: String {
        if let line {
            return "\(fileName):\(line): expected \(expected), got \(found)"
        }
        return "\(fileName): expected \(expected), got \(found)"
    }

    /// Renders a line found in the input for an error message: at most 80 characters, bytes that are not
    /// printable ASCII shown as `\xNN`, in quotes so that trailing spaces are visible.
    static func quote(_ bytes: some Collection<UInt8>) -> String {
        var out = "\""
        var count = 0
        for byte in bytes {
            if count == 80 {
                out += "..."
                break
            }
            count += 1
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "\\x"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out + "\""
    }
}
