import Valgrind

/// A program and its arguments as a value, printable as a shell command line.
public struct ProgramCommand: Sendable, Hashable, Codable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]

    /// Creates a command.
    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    public var description: String {
        ([executable] + arguments).map(ValgrindCommand.shellQuote).joined(separator: " ")
    }
}
