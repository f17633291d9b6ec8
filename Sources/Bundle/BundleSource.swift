import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A bundle read into memory from a `.tar.gz` or from a folder (an unpacked bundle).
public struct BundleContents: Sendable {
    /// The file or folder as named by the user, for messages.
    public var name: String
    /// The top-level folder's name (a folder's own name when read from a folder).
    public var top: String
    /// Regular files by path relative to the top-level folder.
    public var files: [String: [UInt8]]
    /// Entries that are not regular files or folders, with what they are.
    public var others: [(path: String, kind: String)]
    /// The checked archive, when read from a file: what ``BundleExtractor`` unpacks.
    public var archive: BundleArchive?
    /// The folder's absolute path, when read from a folder.
    public var directory: String?
}

/// Reads bundles from disk.
public enum BundleSource {
    /// Reads `path`: a folder is read file by file, anything else as a `.tar.gz` whose entries are
    /// checked safe (``BundleArchive``) before anything else looks at them.
    public static func read(_ path: String) throws(BundleError) -> BundleContents {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { return try readDirectory(path) }
        let bytes = try readFile(path)
        let archive: BundleArchive
        do {
            archive = try BundleArchive.read(gzip: bytes)
        } catch {
            throw .archive(file: path, fault: error)
        }
        return BundleContents(
            name: path,
            top: archive.top,
            files: archive.files,
            others: archive.others,
            archive: archive,
            directory: nil
        )
    }

    /// A whole file's bytes.
    public static func readFile(_ path: String) throws(BundleError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .unreadable(path: path, reason: reason)
        }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    /// Every entry under a folder: regular files read, links and other kinds listed (never followed).
    public static func readDirectory(
        _ path: String,
        skipping skip: (String) -> Bool = { _ in false }
    ) throws(BundleError) -> BundleContents {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var files: [String: [UInt8]] = [:]
        var others: [(path: String, kind: String)] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? absolute : absolute + "/" + relative
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                throw .unreadable(path: directory, reason: "\(error.localizedDescription)")
            }
            for name in names.sorted() {
                let child = relative.isEmpty ? name : relative + "/" + name
                if skip(child) { continue }
                var info = stat()
                guard lstat(absolute + "/" + child, &info) == 0 else {
                    throw .unreadable(path: absolute + "/" + child, reason: String(cString: strerror(errno)))
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    pending.append(child)
                case S_IFREG:
                    files[child] = try readFile(absolute + "/" + child)
                case S_IFLNK:
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: absolute + "/" + child))
                    others.append((child, "symbolic link to '\(target ?? "?")'"))
                default:
                    others.append((child, "special file"))
                }
            }
        }
        let top = absolute.split(separator: "/").last.map(String.init) ?? absolute
        return BundleContents(
            name: path,
            top: top,
            files: files,
            others: others.sorted { $0.path < $1.path },
            archive: nil,
            directory: absolute
        )
    }
}

/// Unpacks a checked archive into a folder.
public enum BundleExtractor {
    /// Creates `parent/<top>` and writes every entry below it; never follows a link while writing and
    /// never replaces anything (`O_EXCL`). Permission bits are kept without set-id bits.
    ///
    /// - Returns: the absolute path of the unpacked top-level folder.
    @discardableResult
    public static func extract(_ archive: BundleArchive, into parent: String) throws(BundleError) -> String {
        let root = parent + "/" + archive.top
        guard mkdir(root, 0o755) == 0 else {
            throw .unwritable(path: root, reason: String(cString: strerror(errno)))
        }
        for member in archive.members {
            let target = root + "/" + member.path
            var prefix = root
            for part in member.path.split(separator: "/").dropLast() {
                prefix += "/" + part
                if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                    throw .unwritable(path: prefix, reason: String(cString: strerror(errno)))
                }
            }
            switch member.entry.kind {
            case .directory:
                if mkdir(target, 0o755) != 0 && errno != EEXIST {
                    throw .unwritable(path: target, reason: String(cString: strerror(errno)))
                }
            case .file:
                let mode = mode_t(member.entry.mode & 0o777 | 0o600)
                let descriptor = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
                guard descriptor >= 0 else {
                    throw .unwritable(path: target, reason: String(cString: strerror(errno)))
                }
                defer { close(descriptor) }
                var written = 0
                let data = member.entry.data
                while written < data.count {
                    let count = data.withUnsafeBytes { buffer in
                        write(descriptor, buffer.baseAddress.map { $0 + written }, data.count - written)
                    }
                    guard count > 0 else {
                        throw .unwritable(path: target, reason: String(cString: strerror(errno)))
                    }
                    written += count
                }
            case .symlink(let destination):
                guard symlink(destination, target) == 0 else {
                    throw .unwritable(path: target, reason: String(cString: strerror(errno)))
                }
            case .hardlink(let destination):
                // Checked: an earlier regular file of the archive, under the same top-level folder.
                let normalized = (try? BundleArchive.components(destination, offset: 0))?.joined(separator: "/")
                let source = parent + "/" + (normalized ?? destination)
                guard link(source, target) == 0 else {
                    throw .unwritable(path: target, reason: String(cString: strerror(errno)))
                }
            case .characterDevice, .blockDevice, .fifo, .other:
                // BundleArchive.check refuses these; an archive built by hand without it is refused here too.
                throw .archive(
                    file: root,
                    fault: .unsafeEntry(
                        offset: member.entry.offset,
                        path: member.entry.path,
                        reason: "it is a \(member.entry.kind.description)"
                    )
                )
            }
        }
        return root
    }
}
