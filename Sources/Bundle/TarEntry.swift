/// One member of a tar archive, as read or to be written.
public struct TarEntry: Sendable, Hashable {
    /// What the member is (tar's type flag).
    public enum Kind: Sendable, Hashable {
        /// A regular file (`0`, or the old `\0` and `7`).
        case file
        /// A directory (`5`).
        case directory
        /// A symbolic link to `target` (`2`).
        case symlink(target: String)
        /// A hard link to the earlier member named `target` (`1`).
        case hardlink(target: String)
        /// A character device (`3`).
        case characterDevice
        /// A block device (`4`).
        case blockDevice
        /// A named pipe (`6`).
        case fifo
        /// Any other type flag.
        case other(flag: UInt8)

        /// Words for messages: `symbolic link to x`, `character device`.
        public var description: String {
            switch self {
            case .file: return "regular file"
            case .directory: return "directory"
            case .symlink(let target): return "symbolic link to '\(target)'"
            case .hardlink(let target): return "hard link to '\(target)'"
            case .characterDevice: return "character device"
            case .blockDevice: return "block device"
            case .fifo: return "named pipe"
            case .other(let flag): return "entry of tar type '\(String(UnicodeScalar(flag)))'"
            }
        }
    }

    /// The path inside the archive, as stored (`/` separated; a directory may end in `/`).
    public var path: String
    public var kind: Kind
    /// Permission bits.
    public var mode: UInt32
    /// Seconds since 1970.
    public var modificationTime: Int
    /// The contents of a regular file; empty for every other kind.
    public var data: [UInt8]
    /// Where its header starts in the tar stream (for messages; 0 for entries not read from a stream).
    public var offset: Int
    /// The size of its data in the archive (for entries read from a stream, whose `data` is read apart).
    public var size: Int

    public init(
        path: String,
        kind: Kind = .file,
        mode: UInt32 = 0o644,
        modificationTime: Int = 0,
        data: [UInt8] = [],
        offset: Int = 0,
        size: Int? = nil
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.modificationTime = modificationTime
        self.data = data
        self.offset = offset
        self.size = size ?? data.count
    }

    /// A regular file.
    public static func file(_ path: String, _ data: [UInt8], mode: UInt32 = 0o644, time: Int = 0) -> TarEntry {
        TarEntry(path: path, kind: .file, mode: mode, modificationTime: time, data: data)
    }

    /// A directory.
    public static func directory(_ path: String, mode: UInt32 = 0o755, time: Int = 0) -> TarEntry {
        TarEntry(path: path, kind: .directory, mode: mode, modificationTime: time)
    }
}
