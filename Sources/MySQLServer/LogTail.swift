#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The last lines of a log file, for error messages about a server that would not start or died.
public struct LogTail: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The log file.
    public var path: String
    /// Its last lines (at most the number asked for), oldest first; empty when the file is empty or
    /// unreadable.
    public var lines: [String]
    /// Whether the file could be read at all.
    public var readable: Bool

    /// Creates a tail from known lines.
    public init(path: String, lines: [String], readable: Bool = true) {
        self.path = path
        self.lines = lines
        self.readable = readable
    }

    /// Reads the last `count` lines of `path` (reading at most the last 64 KiB).
    public static func read(_ path: String, lines count: Int = 20) -> LogTail {
        guard let text = FileIO.readTail(path, maxBytes: 64 * 1024) else {
            return LogTail(path: path, lines: [], readable: false)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        return LogTail(path: path, lines: Array(lines.suffix(count)))
    }

    /// The last non-empty line, for progress displays.
    public var lastLine: String? { lines.last }

    public var description: String {
        if !readable { return "--- \(path): not written ---" }
        if lines.isEmpty { return "--- \(path): empty ---" }
        return "--- last \(lines.count) lines of \(path) ---\n" + lines.map { "  " + $0 }.joined(separator: "\n")
    }
}

/// Small file helpers over the C library, so that the module needs no Foundation for them.
enum FileIO {
    /// The directory part of `path` (`.` for a bare name, `/` for a file at the root).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// The last `maxBytes` of a file as text (invalid UTF-8 repaired), or `nil` if it cannot be opened.
    static func readTail(_ path: String, maxBytes: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { return nil }
        let start = max(0, Int(size) - maxBytes)
        lseek(fd, off_t(start), SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: Int(size) - start)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(fd, base + filled, buffer.count - filled)
            }
            if count <= 0 { break }
            filled += count
        }
        return String(decoding: bytes.prefix(filled), as: UTF8.self)
    }

    /// The whole file as text, or `nil`.
    static func readAll(_ path: String) -> String? {
        readTail(path, maxBytes: Int.max / 2)
    }

    /// Whether something exists at `path` (without following a final symlink).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The size of a regular file, or `nil`.
    static func size(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Creates `path` and its parents; sets `mode` on the last component (even if it existed).
    static func makeDirectory(_ path: String, mode: mode_t) throws(ServerError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw .runDirectory(path: prefix, reason: String(cString: strerror(errno)))
            }
        }
        if chmod(path, mode) != 0 {
            throw .runDirectory(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Names of the entries of a directory (without `.` and `..`), or `[]` if it cannot be read.
    static func list(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether `path` is a FIFO.
    static func isFIFO(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
    }

    /// Removes a directory tree (like `rm -rf`); missing paths are fine.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in list(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

extension FileIO {
    /// Replaces a file's contents; false when it could not (`errno` says why). Logs ignore the answer: a
    /// log that cannot be written is not worth failing for.
    @discardableResult
    static func writeFile(_ path: String, contents: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + written, buffer.count - written)
            }
            if count <= 0 { return false }
            written += count
        }
        return true
    }
}
