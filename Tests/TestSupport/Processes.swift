import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What is left running or lying around after a test: a finished run must leave no valgrind, vgdb or
/// mariadbd process and no FIFO behind.

/// Processes whose command line mentions `text` (usually the test's scratch or run directory), this test
/// process left out, as `PID: command line`.
public func processesMentioning(_ text: String) -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [String] = []
    for entry in entries where Int32(entry) != nil && Int32(entry) != getpid() {
        guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        if line.contains(text) { found.append("\(entry): \(line)") }
    }
    return found
}

/// The processes in process group `pgid` (from /proc), to prove a group is gone.
public func processesInGroup(_ pgid: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state, ppid, pgrp.
        return fields.count > 2 && Int32(fields[2]) == pgid
    }
}

/// The FIFOs anywhere under `path`, relative to it (vgdb's are what a run must not leave).
public func fifos(under path: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
    var found: [String] = []
    while let next = enumerator.nextObject() as? String {
        var info = stat()
        if lstat(path + "/" + next, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO { found.append(next) }
    }
    return found
}
