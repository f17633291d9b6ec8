import CReadline
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The line editor on a terminal: GNU readline's callback interface on a thread of its own.
///
/// The thread waits in `poll(2)` on the terminal and on a pipe of its own. Keys go to
/// `rl_callback_read_char`; a byte on the pipe says what happened elsewhere: `i` Ctrl-C (discard the line,
/// prompt again), `n` a notice to show above the prompt, `t` the REPL is ending, `w` the window was
/// resized. Readline installs no signal handlers (`rl_catch_signals = 0`): SIGINT reaches snapctl's
/// handler, which decides between clearing the input and stopping a running statement. The terminal is
/// put back into its normal mode whenever no line is being read (`rl_callback_handler_remove`).
final class ReadlineEditor: LineSource {
    private let thread = BlockingThread(name: "snapctl-readline")
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let historyFile: String?
    private let pending = Mutex<PendingRead?>(nil)
    private let terminated = Mutex(false)
    private let notices = Mutex<[String]>([])
    private let output: ReplOutput

    /// Sets readline up and reads the history file (created when missing).
    init(historyFile: String?, output: ReplOutput) {
        self.historyFile = historyFile
        self.output = output
        var descriptors: [Int32] = [-1, -1]
        if pipe(&descriptors) == 0 {
            for descriptor in descriptors {
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            }
        }
        wakeRead = descriptors[0]
        wakeWrite = descriptors[1]
        let historyFile = self.historyFile
        thread.submit {
            snapctl_rl_configure { text, start, _ in
                ReadlineEditor.complete(text, start: start)
            }
            using_history()
            stifle_history(Self.historySize)
            if let historyFile {
                let created = open(historyFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
                if created >= 0 { Glibc.close(created) }
                _ = read_history(historyFile)
            }
        }
    }

    /// Lines kept in the history file.
    static let historySize: Int32 = 1000

    /// What completion knows, refreshed by the REPL after every command; read by readline's completion
    /// function on the editor thread.
    static let completionContext = Mutex(Completion.Context())

    func read(prompt: String) async -> LineEvent {
        await withCheckedContinuation { continuation in
            let read = PendingRead(continuation)
            pending.withLock { $0 = read }
            if terminated.withLock({ $0 }) {
                read.resume(.terminated)
                return
            }
            thread.submit { [self] in
                read.resume(readBlocking(prompt: prompt))
            }
        }
    }

    func interrupt() { wake("i") }

    func terminate() {
        terminated.withLock { $0 = true }
        pending.withLock { $0?.resume(.terminated) }
        wake("t")
    }

    func notify(_ message: String) {
        notices.withLock { $0.append(message) }
        wake("n")
    }

    /// Called on SIGWINCH.
    func resized() { wake("w") }

    /// Waits until the thread has left readline (and the terminal is back in its normal mode).
    func close() async {
        await thread.run {}
        let remaining = notices.withLock { queued in
            defer { queued = [] }
            return queued
        }
        for message in remaining { output.notice(message) }
    }

    private func wake(_ byte: Character) {
        var value = byte.asciiValue ?? 0
        _ = Glibc.write(wakeWrite, &value, 1)
    }

    // MARK: On the editor thread

    /// The line readline's callback handed over; set and read on the editor thread only.
    private static let delivered = Mutex<LineEvent?>(nil)

    private func readBlocking(prompt: String) -> LineEvent {
        if terminated.withLock({ $0 }) { return .terminated }
        Self.delivered.withLock { $0 = nil }
        rl_callback_handler_install(prompt) { line in
            // Called by rl_callback_read_char once Enter (or Ctrl-D on an empty line) ends the line.
            if let line {
                ReadlineEditor.delivered.withLock { $0 = .line(String(cString: line)) }
                free(line)
            } else {
                ReadlineEditor.delivered.withLock { $0 = .end }
            }
            // Removing the handler here keeps readline from printing the prompt again.
            rl_callback_handler_remove()
        }
        var descriptors = [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                rl_callback_handler_remove()
                return .end
            }
            if descriptors[1].revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                while Glibc.read(wakeRead, &byte, 1) == 1 {
                    switch byte {
                    case UInt8(ascii: "i"):
                        snapctl_rl_discard_line()
                        rl_callback_sigcleanup()
                        rl_callback_handler_remove()
                        output.result("^C")
                        return .interrupted
                    case UInt8(ascii: "t"):
                        rl_callback_handler_remove()
                        output.result("")
                        return .terminated
                    case UInt8(ascii: "n"):
                        showNotices()
                    case UInt8(ascii: "w"):
                        snapctl_rl_resize()
                    default:
                        break
                    }
                }
            }
            if descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                rl_callback_read_char()
                if let event = Self.delivered.withLock({ $0 }) {
                    if case .line(let text) = event { remember(text) }
                    if event == .end { output.result("") }
                    return event
                }
            }
        }
    }

    /// Prints queued notices above the prompt, then draws the prompt and the line being typed again.
    private func showNotices() {
        let messages = notices.withLock { queued in
            defer { queued = [] }
            return queued
        }
        guard !messages.isEmpty else { return }
        output.raw("\r\u{1B}[K")
        for message in messages { output.notice(message) }
        rl_on_new_line()
        rl_forced_update_display()
    }

    /// Adds a line to the history and appends it to the history file at once.
    private func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        if let last = snapctl_history_last(), String(cString: last) == line { return }
        add_history(line)
        if let historyFile { _ = append_history(1, historyFile) }
    }

    /// readline's completion function: the REPL's candidates, or readline's own file names.
    private static func complete(
        _ text: UnsafePointer<CChar>?,
        start: Int32
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        let word = text.map { String(cString: $0) } ?? ""
        var before = ""
        if let buffer = snapctl_rl_line_buffer() {
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                count: Int(start)
            )
            before = String(decoding: bytes, as: UTF8.self)
        }
        let context = completionContext.withLock { $0 }
        switch Completion.candidates(before: before, word: word, context: context) {
        case .files:
            snapctl_rl_set_completion_over(0)
            return nil
        case .words(let words):
            snapctl_rl_set_completion_over(1)
            guard !words.isEmpty else { return nil }
            return matchList(words)
        }
    }

    /// The array readline wants from a completion function, allocated with malloc because readline frees
    /// it: the text to insert (the common prefix), then each candidate, then NULL.
    private static func matchList(_ words: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        let entries = words.count == 1 ? [words[0]] : [Completion.commonPrefix(words)] + words
        let size = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (entries.count + 1)
        guard let raw = malloc(size) else { return nil }
        let list = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: entries.count + 1)
        for (index, entry) in entries.enumerated() { list[index] = strdup(entry) }
        list[entries.count] = nil
        return list
    }
}
