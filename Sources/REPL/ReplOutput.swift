#if canImport(Glibc)
import Glibc
#endif

/// Where the REPL writes: results to standard output, errors and notices to standard error, each write
/// unbuffered so that a pipe shows every command's output as soon as it is done.
struct ReplOutput: Sendable {
    /// A result (a table, a diff, a report).
    func result(_ text: String) {
        write(1, text.hasSuffix("\n") || text.isEmpty ? text : text + "\n")
    }

    /// Something that went wrong; the REPL goes on.
    func error(_ message: String) {
        write(2, "error: " + message + "\n")
    }

    /// Progress and events (the server started, died).
    func notice(_ message: String) {
        write(2, message.hasSuffix("\n") ? message : message + "\n")
    }

    /// Bytes for the terminal as they are (escape codes of the line editor).
    func raw(_ text: String) {
        write(1, text)
    }

    private func write(_ descriptor: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }
}
