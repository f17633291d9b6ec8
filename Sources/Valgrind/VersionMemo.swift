import Foundation

/// What `PROGRAM --version` printed, remembered in the user's cache by the identity of the program's file.
///
/// A session runs `mariadbd --version` (30-40 ms: the server reads its option files even for `--version`)
/// and `valgrind --version` before anything else can start. Their answers change only when the file
/// changes, so they are kept under `CACHE/versions/` with the file's device, inode, size, mtime and ctime.
/// The ctime cannot be set by a user: any rewrite, rename over, `chmod` or package upgrade changes it, and
/// then the program is run again. A memo that cannot be read, is malformed, is larger than a version
/// output could be, or names another path, is ignored and replaced. The identity is taken before the
/// program runs, so a file replaced while it ran is run again next time.
public struct VersionMemo: Sendable {
    /// The directory that holds one file per program.
    public let directory: String

    /// The largest memo read back: a header and an output of at most ``outputLimit``.
    static let fileLimit = 80 * 1024
    /// The largest output remembered (the callers read at most 64 KiB of it).
    static let outputLimit = 64 * 1024
    static let magic = "snapctl-version-memo 1"

    /// The memo directory under a snapctl cache root.
    public init(cacheRoot: String) {
        directory = cacheRoot + "/versions"
    }

    /// The identity of the file `path` names (after symlinks), or `nil` when it cannot be read.
    public static func identity(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_dev) \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) "
            + "\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    /// The output remembered for `program` when its file still has `identity`.
    public func recall(_ program: String, identity: String) -> String? {
        guard let text = Self.readBounded(file(for: program)) else { return nil }
        return Self.parse(text, program: program, identity: identity)
    }

    /// Remembers `output` for `program` as it was when its file had `identity`. Best effort: a cache that
    /// cannot be written only means the program runs again next time.
    public func remember(_ output: String, for program: String, identity: String) {
        guard output.utf8.count <= Self.outputLimit, !program.contains("\n") else { return }
        guard
            (try? FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )) != nil
        else { return }
        let path = file(for: program)
        let temporary = path + ".tmp.\(getpid())"
        let contents = Self.render(output, program: program, identity: identity)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(contents.utf8)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// The memo's text: the magic line, the path, the identity, then the output verbatim.
    static func render(_ output: String, program: String, identity: String) -> String {
        "\(magic)\npath \(program)\nidentity \(identity)\n" + output
    }

    /// The output in `text` when it is a memo of `program` with `identity`.
    static func parse(_ text: String, program: String, identity: String) -> String? {
        let header = "\(magic)\npath \(program)\nidentity \(identity)\n"
        guard text.hasPrefix(header) else { return nil }
        return String(text.dropFirst(header.count))
    }

    /// One file per program path: a hash of the path names it, and the path inside settles collisions.
    func file(for program: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in program.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The file's text, or `nil` when it is missing, unreadable, not UTF-8, or over ``fileLimit``.
    static func readBounded(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: fileLimit + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                guard let base = buffer.baseAddress else { return -1 }
                return read(descriptor, base + filled, buffer.count - filled)
            }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            filled += count
        }
        guard filled <= fileLimit else { return nil }
        return String(validating: bytes[0..<filled], as: UTF8.self)
    }
}
