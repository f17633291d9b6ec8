/// The entries of a bundle archive once checked safe to unpack, relative to its one top-level folder.
///
/// The rules, checked before a single byte is written: every path is relative and has no `..`; every
/// entry is inside one top-level folder; a symbolic link points inside that folder and no entry is
/// written through one; a hard link names an earlier regular file of the archive; devices and pipes are
/// refused; no path appears twice. Pure: bytes in, entries out.
public struct BundleArchive: Sendable, Hashable {
    /// One entry, its path relative to the top-level folder (`manifest.json`, `snapshots/0001-...`).
    public struct Member: Sendable, Hashable {
        public var path: String
        public var entry: TarEntry
    }

    /// The top-level folder's name.
    public var top: String
    /// Every entry below the top-level folder, in archive order (the folder's own entry left out).
    public var members: [Member]

    public init(top: String, members: [Member]) {
        self.top = top
        self.members = members
    }

    /// Reads a `.tar.gz`: decompresses, reads the tar stream, checks every entry.
    public static func read(gzip bytes: [UInt8]) throws(ArchiveFault) -> BundleArchive {
        try check(TarReader.entries(Gzip.decompress(bytes)))
    }

    /// The regular files, by path relative to the top-level folder.
    public var files: [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for member in members {
            if case .file = member.entry.kind { result[member.path] = member.entry.data }
        }
        return result
    }

    /// Entries that are neither regular files nor directories, with what they are.
    public var others: [(path: String, kind: String)] {
        members.compactMap { member in
            switch member.entry.kind {
            case .file, .directory: return nil
            case .hardlink(let target):
                // Hard links unpack to regular files; a bundle written by snapctl has none.
                return (member.path, "hard link to '\(target)'")
            default: return (member.path, member.entry.kind.description)
            }
        }
    }

    /// The archive's bytes: the top-level folder, its directories, then the files sorted by path, as
    /// tar.gz with one time stamp for every entry.
    public static func make(top: String, files: [String: [UInt8]], time: Int) -> [UInt8] {
        var entries: [TarEntry] = [.directory(top, time: time)]
        var directories: Set<String> = []
        for path in files.keys.sorted() {
            let parts = path.split(separator: "/")
            var prefix = ""
            for part in parts.dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + part
                if directories.insert(prefix).inserted { entries.append(.directory(top + "/" + prefix, time: time)) }
            }
            entries.append(.file(top + "/" + path, files[path] ?? [], time: time))
        }
        return Gzip.compress(TarWriter.archive(entries))
    }

    /// Checks every entry against the rules above.
    public static func check(_ entries: [TarEntry]) throws(ArchiveFault) -> BundleArchive {
        var top: String?
        var members: [Member] = []
        var seen: Set<String> = []
        var directories: Set<String> = []
        var symlinks: Set<String> = []
        var regularFiles: Set<String> = []
        // Every symbolic link of the archive, so that a link's target is never resolved through another
        // one (textual resolution would be wrong there), whichever comes first.
        var allSymlinks: Set<String> = []
        for entry in entries {
            if case .symlink = entry.kind, let parts = try? components(entry.path, offset: entry.offset) {
                allSymlinks.insert(parts.joined(separator: "/"))
            }
        }
        for entry in entries {
            let parts = try components(entry.path, offset: entry.offset)
            guard let first = parts.first else {
                // `./` itself: the directory being unpacked into.
                if case .directory = entry.kind { continue }
                throw .unsafeEntry(offset: entry.offset, path: entry.path, reason: "it has no name")
            }
            if let top, top != first {
                throw .badLayout(
                    reason:
                        "entries outside the top-level folder '\(top)' ('\(entry.path)'); a bundle holds one folder"
                )
            }
            top = first
            let full = parts.joined(separator: "/")
            if parts.count == 1 {
                guard case .directory = entry.kind else {
                    throw .badLayout(
                        reason: "'\(entry.path)' is not inside a folder; a bundle holds one top-level folder"
                    )
                }
                continue
            }
            for length in 1..<parts.count {
                let ancestor = parts[0..<length].joined(separator: "/")
                if symlinks.contains(ancestor) {
                    throw .unsafeEntry(
                        offset: entry.offset,
                        path: entry.path,
                        reason: "it would be written through the symbolic link '\(ancestor)'"
                    )
                }
                directories.insert(ancestor)
            }
            guard seen.insert(full).inserted else {
                // A directory named twice is harmless (some writers do); anything else could replace a file.
                if case .directory = entry.kind, directories.contains(full) { continue }
                throw .unsafeEntry(offset: entry.offset, path: entry.path, reason: "the archive holds it twice")
            }
            switch entry.kind {
            case .file:
                regularFiles.insert(full)
            case .directory:
                directories.insert(full)
            case .symlink(let target):
                if directories.contains(full) {
                    throw .unsafeEntry(
                        offset: entry.offset,
                        path: entry.path,
                        reason: "a symbolic link would replace a folder that holds earlier entries"
                    )
                }
                if target.hasPrefix("/") {
                    throw .unsafeEntry(
                        offset: entry.offset,
                        path: entry.path,
                        reason: "it is a symbolic link to the absolute path '\(target)', outside the bundle"
                    )
                }
                let resolved = resolve(target, from: Array(parts.dropLast()), symlinks: allSymlinks)
                guard let resolved, resolved.first == first else {
                    throw .unsafeEntry(
                        offset: entry.offset,
                        path: entry.path,
                        reason:
                            "it is a symbolic link to '\(target)', which leaves the bundle's folder or goes through another link"
                    )
                }
                symlinks.insert(full)
            case .hardlink(let target):
                let targetParts = try components(target, offset: entry.offset)
                let targetPath = targetParts.joined(separator: "/")
                guard targetParts.first == first, regularFiles.contains(targetPath) else {
                    throw .unsafeEntry(
                        offset: entry.offset,
                        path: entry.path,
                        reason: "it is a hard link to '\(target)', which is not an earlier file of the bundle"
                    )
                }
                regularFiles.insert(full)
            case .characterDevice, .blockDevice, .fifo, .other:
                throw .unsafeEntry(
                    offset: entry.offset,
                    path: entry.path,
                    reason: "it is a \(entry.kind.description); a bundle holds only files and folders"
                )
            }
            members.append(Member(path: parts.dropFirst().joined(separator: "/"), entry: entry))
        }
        guard let top else { throw .badLayout(reason: "the archive is empty") }
        return BundleArchive(top: top, members: members)
    }

    /// The path's components with `.` and empty ones dropped; absolute paths and `..` are refused.
    static func components(_ path: String, offset: Int) throws(ArchiveFault) -> [String] {
        if path.hasPrefix("/") {
            throw .unsafeEntry(offset: offset, path: path, reason: "it is an absolute path")
        }
        var parts: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                throw .unsafeEntry(offset: offset, path: path, reason: "it contains '..' and could land outside")
            }
            parts.append(String(part))
        }
        return parts
    }

    /// A relative link target resolved against the link's folder, textually; `nil` when it climbs above
    /// the archive's root or passes through one of `symlinks` on the way (where the textual answer and
    /// the file system's could differ).
    static func resolve(_ target: String, from directory: [String], symlinks: Set<String> = []) -> [String]? {
        var parts = directory
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if symlinks.contains(parts.joined(separator: "/")) { return nil }
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
                continue
            }
            parts.append(String(part))
        }
        return parts
    }
}
