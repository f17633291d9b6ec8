/// What reading one line gave.
public enum LineEvent: Sendable, Hashable {
    /// A line, without its line break.
    case line(String)
    /// Ctrl-C while typing: the input was discarded.
    case interrupted
    /// End of input (Ctrl-D, or the end of piped input).
    case end
    /// A signal (SIGTERM, SIGHUP) ends the REPL.
    case terminated
}

/// Where the REPL's lines come from: the line editor on a terminal, plain lines from a pipe.
protocol LineSource: Sendable {
    /// Reads one line, showing `prompt` (a plain source shows none).
    func read(prompt: String) async -> LineEvent
    /// Ctrl-C while a line is being read.
    func interrupt()
    /// Ends the read under way, and every later one, with ``LineEvent/terminated``.
    func terminate()
    /// Shows a message now, even while the user is typing (the server died).
    func notify(_ message: String)
    /// Waits until the terminal is restored; nothing is read afterwards.
    func close() async
}
