import Crypto
import Foundation
import RunRecord

#if canImport(Glibc)
import Glibc
#endif

/// A bundle as verification needs it: every regular file's SHA-256, and the few small files read as
/// documents (manifest.json, env.json, SHA256SUMS, plan.yaml). File contents are hashed as they stream
/// past and never held, so a bundle of any size is checked in bounded memory.
public struct BundleContents: Sendable {
    /// The file or folder as named by the user, for messages.
    public var name: String
    /// The top-level folder's name (a folder's own name when read from a folder).
    public var top: String
    /// The SHA-256 (lowercase hex) of every regular file, by path relative to the top-level folder.
    public var digests: [String: String]
    /// The documents verification and replay read, by path (only those present).
    public var documents: [String: [UInt8]]
    /// Entries that are not regular files or folders, with what they are.
    public var others: [(path: String, kind: String)]
    /// The checked archive (headers only, no data), when read from a file: what
    /// ``BundleExtractor/extract(file:checked:digests:into:limits:)`` unpacks on a second read.
    public var archive: BundleArchive?
    /// The folder's absolute path, when read from a folder.
    public var directory: String?
    /// The limits the archive was read with, for the second read.
    public var limits: ArchiveLimits = ArchiveLimits()
}

/// Reads bundles from disk.
public enum BundleSource {
    /// The files read whole: what verification and replay look inside.
    public static let documentNames: Set<String> = [
        RunLayout.manifest, BundleLayout.environment, RunLayout.checksums, RunLayout.planFile,
    ]
    /// The most of one document read: a manifest of a long run is a few megabytes.
    public static let documentLimit = 32 << 20

    /// Reads `path`: a folder file by file, anything else as a `.tar.gz` streamed through gzip and tar
    /// within `limits`, its entries checked safe (``BundleArchive``) before anything else looks at them.
    public static func read(
        _ path: String,
        limits: ArchiveLimits = ArchiveLimits()
    ) throws(BundleError) -> BundleContents {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { return try scanDirectory(path) }
        guard let file = FileSource(path: path) else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        var stream = TarStream(GzipSource(file), limits: limits)
        var entries: [TarEntry] = []
        var digests: [String: String] = [:]
        var documents: [String: [UInt8]] = [:]
        do throws(ArchiveFault) {
            while let entry = try stream.next() {
                entries.append(entry)
                let relative = relativePath(entry.path)
                switch entry.kind {
                case .file:
                    var hash = SHA256()
                    let keep = relative.map { documentNames.contains($0) } ?? false
                    var document: [UInt8] = []
                    while true {
                        let chunk = try stream.readData()
                        if chunk.isEmpty { break }
                        hash.update(data: chunk)
                        guard keep else { continue }
                        guard chunk.count <= documentLimit - document.count else {
                            throw ArchiveFault.limitExceeded(
                                offset: entry.offset,
                                what: "bytes in '\(relative ?? entry.path)', the most snapctl reads of that file",
                                limit: documentLimit,
                                flag: nil
                            )
                        }
                        document += chunk
                    }
                    if let relative {
                        digests[relative] = hash.hexDigest()
                        if keep { documents[relative] = document }
                    }
                case .hardlink(let target):
                    // A hard link unpacks to the file it names (checked below to be an earlier one).
                    if let relative, let source = relativePath(target) {
                        digests[relative] = digests[source]
                        documents[relative] = documents[source]
                    }
                default:
                    break
                }
            }
            let archive = try BundleArchive.check(entries)
            return BundleContents(
                name: path,
                top: archive.top,
                digests: digests,
                documents: documents.filter { documentNames.contains($0.key) },
                others: archive.others,
                archive: archive,
                directory: nil,
                limits: limits
            )
        } catch {
            throw .archive(file: path, fault: error)
        }
    }

    /// An entry's path below the top-level folder; `nil` for the folder itself and for paths
    /// ``BundleArchive/check(_:)`` refuses anyway.
    static func relativePath(_ path: String) -> String? {
        guard let parts = try? BundleArchive.components(path, offset: 0), parts.count > 1 else { return nil }
        return parts.dropFirst().joined(separator: "/")
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

    /// A file's SHA-256, read in chunks; and its bytes when `keep` (at most ``documentLimit``).
    static func hashFile(_ path: String, keep: Bool) throws(BundleError) -> (digest: String, bytes: [UInt8]?) {
        guard let file = FileSource(path: path) else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        var hash = SHA256()
        var bytes: [UInt8] = []
        while true {
            let chunk: [UInt8]
            do {
                chunk = try file.read(maximum: 1 << 16)
            } catch {
                throw .unreadable(path: path, reason: error.description)
            }
            if chunk.isEmpty { break }
            hash.update(data: chunk)
            if keep {
                guard chunk.count <= documentLimit - bytes.count else {
                    throw .unreadable(path: path, reason: "larger than the \(documentLimit) bytes snapctl reads of it")
                }
                bytes += chunk
            }
        }
        return (hash.hexDigest(), keep ? bytes : nil)
    }

    /// An unpacked bundle: every regular file hashed in chunks, the documents kept, links and other
    /// kinds listed (never followed).
    public static func scanDirectory(_ path: String) throws(BundleError) -> BundleContents {
        let (absolute, paths, others) = try walk(path) { _ in false }
        var digests: [String: String] = [:]
        var documents: [String: [UInt8]] = [:]
        for relative in paths {
            let keep = documentNames.contains(relative)
            let (digest, bytes) = try hashFile(absolute + "/" + relative, keep: keep)
            digests[relative] = digest
            if let bytes { documents[relative] = bytes }
        }
        return BundleContents(
            name: path,
            top: absolute.split(separator: "/").last.map(String.init) ?? absolute,
            digests: digests,
            documents: documents,
            others: others,
            archive: nil,
            directory: absolute
        )
    }

    /// Every regular file under a folder read whole, for packing one's own run directory.
    public static func readDirectory(
        _ path: String,
        skipping skip: (String) -> Bool = { _ in false }
    ) throws(BundleError) -> (files: [String: [UInt8]], others: [(path: String, kind: String)]) {
        let (absolute, paths, others) = try walk(path, skipping: skip)
        var files: [String: [UInt8]] = [:]
        for relative in paths { files[relative] = try readFile(absolute + "/" + relative) }
        return (files, others)
    }

    /// The regular files under a folder (relative paths) and the entries that are neither files nor
    /// folders.
    static func walk(
        _ path: String,
        skipping skip: (String) -> Bool
    ) throws(BundleError) -> (absolute: String, files: [String], others: [(path: String, kind: String)]) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var files: [String] = []
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
                    files.append(child)
                case S_IFLNK:
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: absolute + "/" + child))
                    others.append((child, "symbolic link to '\(target ?? "?")'"))
                default:
                    others.append((child, "special file"))
                }
            }
        }
        return (absolute, files.sorted(), others.sorted { $0.path < $1.path })
    }
}

/// Unpacks a checked archive into a folder.
public enum BundleExtractor {
    /// Creates `parent/<top>` and writes every entry below it; never follows a link while writing and
    /// never replaces anything (`O_EXCL`). Permission bits are kept without set-id bits, and nothing is
    /// readable by others (files 0600 or 0700, folders 0700).
    ///
    /// - Returns: the absolute path of the unpacked top-level folder.
    @discardableResult
    public static func extract(_ archive: BundleArchive, into parent: String) throws(BundleError) -> String {
        let root = try makeRoot(parent + "/" + archive.top)
        for member in archive.members {
            try place(member, root: root) { descriptor, target throws(BundleError) in
                try writeAll(member.entry.data, to: descriptor, path: target)
            }
        }
        return root
    }

    /// Reads the bundle file `file` a second time and unpacks the entries ``BundleSource/read(_:limits:)``
    /// checked (`checked`) as they stream past; each file's bytes must hash to what the first read found
    /// (`digests`), so a file changed between the two reads is refused.
    @discardableResult
    public static func extract(
        file: String,
        checked: BundleArchive,
        digests: [String: String],
        into parent: String,
        limits: ArchiveLimits
    ) throws(BundleError) -> String {
        guard let source = FileSource(path: file) else {
            throw .unreadable(path: file, reason: String(cString: strerror(errno)))
        }
        var byOffset: [Int: BundleArchive.Member] = [:]
        for member in checked.members { byOffset[member.entry.offset] = member }
        let root = try makeRoot(parent + "/" + checked.top)
        var stream = TarStream(GzipSource(source), limits: limits)
        do {
            while let entry = try stream.next() {
                guard let member = byOffset[entry.offset] else {
                    // The top-level folder's own entry (or `./`): already made.
                    if case .directory = entry.kind, BundleSource.relativePath(entry.path) == nil { continue }
                    throw BundleError.changedWhileReading(file: file, path: entry.path)
                }
                guard member.entry.path == entry.path, member.entry.kind == entry.kind else {
                    throw BundleError.changedWhileReading(file: file, path: entry.path)
                }
                try place(member, root: root) { descriptor, target throws(BundleError) in
                    var hash = SHA256()
                    while true {
                        let chunk: [UInt8]
                        do throws(ArchiveFault) {
                            chunk = try stream.readData()
                        } catch {
                            throw .archive(file: file, fault: error)
                        }
                        if chunk.isEmpty { break }
                        hash.update(data: chunk)
                        try writeAll(chunk, to: descriptor, path: target)
                    }
                    guard hash.hexDigest() == digests[member.path] else {
                        throw .changedWhileReading(file: file, path: member.path)
                    }
                }
            }
        } catch let error as BundleError {
            throw error
        } catch let error as ArchiveFault {
            throw .archive(file: file, fault: error)
        } catch {
            throw .unreadable(path: file, reason: "\(error)")
        }
        return root
    }

    static func makeRoot(_ root: String) throws(BundleError) -> String {
        guard mkdir(root, 0o700) == 0 else {
            throw .unwritable(path: root, reason: String(cString: strerror(errno)))
        }
        return root
    }

    static func writeAll(_ data: [UInt8], to descriptor: Int32, path: String) throws(BundleError) {
        var written = 0
        while written < data.count {
            let count = data.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, data.count - written)
            }
            guard count > 0 else {
                throw .unwritable(path: path, reason: String(cString: strerror(errno)))
            }
            written += count
        }
    }

    /// Creates one checked member below `root`; a regular file's bytes come from `contents`.
    static func place(
        _ member: BundleArchive.Member,
        root: String,
        contents: (Int32, String) throws(BundleError) -> Void
    ) throws(BundleError) {
        let target = root + "/" + member.path
        var prefix = root
        for part in member.path.split(separator: "/").dropLast() {
            prefix += "/" + part
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw .unwritable(path: prefix, reason: String(cString: strerror(errno)))
            }
        }
        switch member.entry.kind {
        case .directory:
            if mkdir(target, 0o700) != 0 && errno != EEXIST {
                throw .unwritable(path: target, reason: String(cString: strerror(errno)))
            }
        case .file:
            let mode = mode_t(member.entry.mode & 0o700 | 0o600)
            let descriptor = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard descriptor >= 0 else {
                throw .unwritable(path: target, reason: String(cString: strerror(errno)))
            }
            defer { close(descriptor) }
            try contents(descriptor, target)
        case .symlink(let destination):
            guard symlink(destination, target) == 0 else {
                throw .unwritable(path: target, reason: String(cString: strerror(errno)))
            }
        case .hardlink(let destination):
            // Checked: an earlier regular file of the archive, under the same top-level folder.
            let normalized = (try? BundleArchive.components(destination, offset: 0))?.joined(separator: "/")
            let source = (root as NSString).deletingLastPathComponent + "/" + (normalized ?? destination)
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
}
