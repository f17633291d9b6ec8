import Crypto
import Foundation
import RunRecord

#if canImport(Glibc)
import Glibc
#endif

/// The run directory on disk: created and proven writable before anything starts, written atomically,
/// checksummed at the end.
struct RunDirectory: Sendable {
    /// Absolute path.
    let path: String

    /// Creates `path` (and its parents) and writes a probe file, so that an unwritable place is refused
    /// before the server starts.
    static func prepare(_ requested: String) throws(SessionError) -> RunDirectory {
        let absolute = absolutePath(requested)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw .runDirectoryUnwritable(path: absolute, reason: "it exists and is not a directory")
            }
            if FileManager.default.fileExists(atPath: absolute + "/" + RunLayout.manifest) {
                throw .runDirectoryInUse(path: absolute)
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
            for sub in [RunLayout.snapshotsDirectory, RunLayout.logsDirectory] {
                try FileManager.default.createDirectory(atPath: absolute + "/" + sub, withIntermediateDirectories: true)
            }
        } catch {
            throw .runDirectoryUnwritable(path: absolute, reason: Self.reason(error))
        }
        // Private: a run holds SQL, results and logs. The folder itself is what keeps others out while
        // the run writes; files are made 0600 as they are written and again when checksummed.
        for directory in [
            absolute, absolute + "/" + RunLayout.snapshotsDirectory, absolute + "/" + RunLayout.logsDirectory,
        ] {
            chmod(directory, 0o700)
        }
        let probe = absolute + "/.snapctl-write-probe"
        guard FileManager.default.createFile(atPath: probe, contents: Data("probe".utf8)) else {
            throw .runDirectoryUnwritable(path: absolute, reason: "creating a file there failed")
        }
        unlink(probe)
        return RunDirectory(path: absolute)
    }

    /// `path` made absolute against the current directory, `.` and `..` resolved textually.
    static func absolutePath(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in base.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }

    func absolute(_ relative: String) -> String { path + "/" + relative }

    /// Writes a file through a temporary name and a rename, so that a reader never sees half of it.
    @discardableResult
    func write(_ relative: String, _ data: Data) -> String? {
        let target = absolute(relative)
        let temporary = target + ".tmp"
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            chmod(temporary, 0o600)
            if rename(temporary, target) != 0 { return "rename \(temporary): \(String(cString: strerror(errno)))" }
            return nil
        } catch {
            return "write \(target): \(Self.reason(error))"
        }
    }

    func write(_ relative: String, text: String) -> String? { write(relative, Data(text.utf8)) }

    func read(_ relative: String) -> Data? { FileManager.default.contents(atPath: absolute(relative)) }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: absolute(relative)) }

    /// Every regular file under the directory, relative paths, sorted.
    func files() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        var result: [String] = []
        while let next = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: absolute(next), isDirectory: &isDirectory), !isDirectory.boolValue
            {
                result.append(next)
            }
        }
        return result.sorted()
    }

    /// Writes `SHA256SUMS` over every file of the record (the server's private directory left out).
    func writeChecksums() -> String? {
        var entries: [(path: String, digest: String)] = []
        for file in files() where RunLayout.isChecksummed(file) {
            chmod(absolute(file), 0o600)
            guard let handle = FileHandle(forReadingAtPath: absolute(file)) else { continue }
            var hasher = SHA256()
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
            try? handle.close()
            entries.append((file, hasher.hexDigest()))
        }
        return write(RunLayout.checksums, text: Checksums.text(entries))
    }

    /// `yyyymmddThhmmss` in UTC, for the default run directory name.
    static func utcStamp(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        return formatter.string(from: date)
    }

    /// ISO 8601 in UTC, for the manifest.
    static func iso8601(_ date: Date = Date()) -> String {
        iso8601Formatter().string(from: date)
    }

    /// The formatter behind ``iso8601(_:)``, for a writer of many stamps to keep.
    static func iso8601Formatter(milliseconds: Bool = false) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        if milliseconds { formatter.formatOptions.insert(.withFractionalSeconds) }
        return formatter
    }
}
