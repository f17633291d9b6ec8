import Foundation

/// Colour on the terminal, following the NO_COLOR convention (https://no-color.org): snapctl colours
/// status words only when standard output is a terminal, `TERM` is not `dumb`, and `NO_COLOR` is unset or
/// empty. Files, pipes and CI logs never get escape codes.
enum Colour {
    enum Name: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
    }

    /// Whether to colour, given the environment and whether the output is a terminal.
    static func enabled(
        isTerminal: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        guard isTerminal else { return false }
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// `text` in `name`'s colour when `on`, else unchanged.
    static func paint(_ text: String, _ name: Name, _ on: Bool) -> String {
        on ? "\u{1B}[\(name.rawValue)m\(text)\u{1B}[0m" : text
    }
}
