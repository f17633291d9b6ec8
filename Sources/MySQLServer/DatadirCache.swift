import CZlib
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the datadir cache lives, or that there is none.
public enum DatadirCacheSetting: Sendable, Hashable {
    /// `$SNAPCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/snapctl`, else `~/.cache/snapctl`; none if none of them is set.
    case automatic
    /// This cache directory.
    case directory(String)
    /// Initialise every run's datadir from scratch.
    case disabled

    /// The cache directory this setting names, read from `environment` for `.automatic`.
    public func root(environment: [String: String]) -> String? {
        switch self {
        case .disabled: return nil
        case .directory(let path): return path
        case .automatic:
            if let path = environment["SNAPCTL_CACHE_DIR"], !path.isEmpty { return path }
            if let path = environment["XDG_CACHE_HOME"], path.hasPrefix("/") { return path + "/snapctl" }
            if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.cache/snapctl" }
            return nil
        }
    }
}

/// How a run's datadir came from the cache (`LaunchProgress.datadirFromCache`).
public enum CachedDatadir: Sendable, Hashable {
    /// The entry was there and verified.
    case reused(entry: String)
    /// There was no entry: it was built.
    case built(entry: String)
    /// The entry failed verification (the reason) and was rebuilt.
    case rebuilt(entry: String, reason: String)

    /// The cache entry's directory.
    public var entry: String {
        switch self {
        case .reused(let entry), .built(let entry), .rebuilt(let entry, _): return entry
        }
    }
}

/// Freshly initialised datadirs, one per server binary, version and initialisation options, copied into each run.
///
/// `mariadb-install-db` takes about two seconds, most of a managed server's start; the datadir it makes is the
/// same every time for the same binary and options, and it can be moved (MariaDB's own test runner copies one
/// bootstrapped datadir into every test). So the first run initialises into the cache and every later run copies.
///
/// Layout: `ROOT/datadirs/<flavor>-<version>-<key digest>/` holds `key` (what the entry was built from),
/// `manifest` (size and CRC-32 of every file), `server/data` (the datadir) and `logs/datadir-init.log`.
/// * An entry is built in a directory of its own (`.build-...`) and renamed into place, so concurrent runs never
///   see half an entry; when two build the same entry at once, the second rename fails and that run uses the
///   first one's.
/// * Every copy is checked against the manifest (sizes, CRC-32 of every byte read, no file missing or extra);
///   an entry that fails is moved aside, deleted and rebuilt. The key file must match exactly, so a digest
///   collision is a rebuild, not a wrong datadir.
/// * The key names the binary's and the initialiser's size and modification time, the version line and the
///   command: a server upgrade or other options make a new entry; entries of the same binary path whose
///   binary has changed, or that an older snapctl made another way (the key's first line), are deleted when
///   the new one is built.
/// * A datadir is kept as the initialiser left it, less InnoDB's buffer-pool dump (see
///   `ManagedServer.initialiseDatadir`).
/// * Any cache failure falls back to initialising into the run directly: the cache never fails a run.
struct DatadirCache: Sendable {
    /// The cache directory (`~/.cache/snapctl`).
    var root: String

    var entriesDirectory: String { root + "/datadirs" }

    /// A cache failure, to log before falling back.
    struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        var description: String
        /// True when writing the run's copy failed (a full disk): the entry is not at fault and is kept.
        var inDestination = false
    }

    /// What identifies an entry: every line must match for the entry to be used.
    struct Key: Sendable, Hashable {
        var text: String
        var name: String

        init(text: String, name: String) {
            self.text = text
            self.name = name
        }

        /// The key of `binary` initialised with `command`, built for the placeholder layout
        /// `Key.placeholderLayout` so that the key does not depend on the run directory.
        init(binary: ServerBinary, command: ProgramCommand) {
            func identity(_ path: String) -> String {
                var info = stat()
                guard stat(path, &info) == 0 else { return "missing" }
                return "size=\(info.st_size) mtime=\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            }
            text = """
                \(Self.format)
                binary-path: \(binary.path)
                binary: \(identity(binary.path))
                version: \(binary.versionLine)
                flavor: \(binary.flavor.rawValue)
                initialiser: \(command.executable) \(identity(command.executable))
                arguments: \(command.arguments.joined(separator: " "))
                uid: \(getuid())

                """
            let digest = Self.crc32(Array(text.utf8))
            name = "\(binary.flavor.rawValue)-\(binary.version)-\(String(digest, radix: 16))"
        }

        /// The first line of every key: entries made another way (2: without the initialiser's buffer-pool
        /// dump and, in MariaDB, root's network accounts) are never used, and are deleted when an entry of the
        /// same binary path is built.
        static let format = "snapctl datadir cache 2"

        /// The run directory the key's command is written for.
        static let placeholderLayout = ServerRunLayout(runDirectory: "/RUN")

        static func crc32(_ bytes: [UInt8]) -> UInt32 {
            bytes.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) }
        }

        /// The value of a `name: value` line.
        func field(_ name: String) -> Substring? {
            let prefix = name + ": "
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }?.dropFirst(prefix.count)
        }
    }

    /// Fills `layout.datadir` (which must not exist) with a verified copy of the entry for `key`, building or
    /// rebuilding the entry with `initialise` (which initialises `buildLayout.datadir`) when needed.
    func provide(
        key: Key,
        into layout: ServerRunLayout,
        initialise: (_ buildLayout: ServerRunLayout) async throws(ServerError) -> Void
    ) async throws(ServerError) -> CachedDatadir {
        let entry = entriesDirectory + "/" + key.name
        // Whatever is in the way was not put there by the cache: leave it to the initialiser's own error.
        if FileIO.exists(layout.datadir) {
            throw .runDirectory(path: layout.datadir, reason: "something is already there")
        }
        var rebuildReason: String?
        if FileIO.exists(entry) {
            do {
                try await BlockingFileWork.run { () throws(Failure) in
                    try Self.copyVerified(entry: entry, key: key, to: layout.datadir)
                }
                return .reused(entry: entry)
            } catch {
                FileIO.removeTree(layout.datadir)
                if error.inDestination {
                    throw .runDirectory(path: layout.datadir, reason: "copying the cached datadir: \(error)")
                }
                rebuildReason = error.description
                discard(entry)
            }
        }
        let built = try await build(key: key, entry: entry, initialise: initialise)
        do {
            try await BlockingFileWork.run { () throws(Failure) in
                try Self.copyVerified(entry: built, key: key, to: layout.datadir)
            }
        } catch {
            FileIO.removeTree(layout.datadir)
            throw .runDirectory(path: layout.datadir, reason: "copying the cached datadir \(built): \(error)")
        }
        if let rebuildReason { return .rebuilt(entry: built, reason: rebuildReason) }
        return .built(entry: built)
    }

    /// Builds the entry in a private directory and renames it into place; returns the entry's path.
    private func build(
        key: Key,
        entry: String,
        initialise: (_ buildLayout: ServerRunLayout) async throws(ServerError) -> Void
    ) async throws(ServerError) -> String {
        try FileIO.makeDirectory(entriesDirectory, mode: 0o700)
        let scratch = entriesDirectory + "/.build-\(key.name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let buildLayout = ServerRunLayout(runDirectory: scratch)
        defer { FileIO.removeTree(scratch) }
        try FileIO.makeDirectory(buildLayout.serverDirectory, mode: 0o700)
        try FileIO.makeDirectory(buildLayout.tmpdir, mode: 0o700)
        try FileIO.makeDirectory(buildLayout.logsDirectory, mode: 0o755)
        try await initialise(buildLayout)
        FileIO.removeTree(buildLayout.tmpdir)
        let manifest: String
        let datadir = buildLayout.datadir
        do {
            manifest = try await BlockingFileWork.run { () throws(Failure) in try Self.manifest(of: datadir) }
        } catch {
            throw .runDirectory(path: buildLayout.datadir, reason: "reading the new datadir: \(error)")
        }
        guard Self.writeText(scratch + "/manifest", manifest), Self.writeText(scratch + "/key", key.text) else {
            throw .runDirectory(
                path: scratch,
                reason: "cannot write the cache entry: \(String(cString: strerror(errno)))"
            )
        }
        if rename(scratch, entry) != 0 {
            // Another run built the same entry first (ENOTEMPTY/EEXIST): use theirs, verified on copy.
            guard errno == ENOTEMPTY || errno == EEXIST else {
                throw .runDirectory(path: entry, reason: String(cString: strerror(errno)))
            }
        }
        pruneStale(except: key)
        return entry
    }

    /// Moves an entry aside (one rename, so no run copies from a half-deleted entry) and deletes it.
    private func discard(_ entry: String) {
        let trash = entriesDirectory + "/.discarded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if rename(entry, trash) == 0 { FileIO.removeTree(trash) }
    }

    /// Deletes entries made from the same binary path when that binary has changed since (an upgrade), or
    /// when they were made another way (an older ``Key/format``), which no run uses again.
    private func pruneStale(except key: Key) {
        guard let path = key.field("binary-path"), let identity = key.field("binary") else { return }
        for name in FileIO.list(entriesDirectory) where !name.hasPrefix(".") && name != key.name {
            guard let text = FileIO.readAll(entriesDirectory + "/" + name + "/key") else { continue }
            let other = Key(text: text, name: name)
            let otherFormat = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
            if other.field("binary-path") == path && (other.field("binary") != identity || otherFormat != Key.format) {
                discard(entriesDirectory + "/" + name)
            }
        }
    }

    // MARK: - Files

    /// One line per directory (`d <path>`) and file (`f <crc32 hex> <size> <path>`), paths relative, sorted.
    static func manifest(of directory: String) throws(Failure) -> String {
        var lines: [String] = []
        func walk(_ relative: String) throws(Failure) {
            let absolute = relative.isEmpty ? directory : directory + "/" + relative
            for name in FileIO.list(absolute).sorted() {
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(directory + "/" + path, &info) == 0 else {
                    throw Failure(description: "\(path): \(String(cString: strerror(errno)))")
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    lines.append("d \(path)")
                    try walk(path)
                case S_IFREG:
                    let (size, crc) = try checksum(directory + "/" + path, copyingTo: nil)
                    lines.append("f \(String(crc, radix: 16)) \(size) \(path)")
                default:
                    throw Failure(description: "\(path) is neither a file nor a directory")
                }
            }
        }
        try walk("")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Copies the entry's datadir to `destination`, checking the key and every file against the manifest.
    static func copyVerified(entry: String, key: Key, to destination: String) throws(Failure) {
        guard let stored = FileIO.readAll(entry + "/key") else { throw Failure(description: "the key file is missing") }
        guard stored == key.text else { throw Failure(description: "the key file does not match") }
        guard let manifest = FileIO.readAll(entry + "/manifest") else {
            throw Failure(description: "the manifest is missing")
        }
        let source = entry + "/server/data"
        var expected: [String: (size: Int, crc: UInt32)] = [:]
        var directories: [String] = []
        for line in manifest.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3)
            if fields.count == 2, fields[0] == "d" {
                directories.append(String(fields[1]))
            } else if fields.count == 4, fields[0] == "f", let crc = UInt32(fields[1], radix: 16),
                let size = Int(fields[2])
            {
                expected[String(fields[3])] = (size, crc)
            } else {
                throw Failure(description: "the manifest has a bad line: \(line.prefix(80))")
            }
        }
        guard mkdir(destination, 0o700) == 0 else {
            throw Failure(description: "\(destination): \(String(cString: strerror(errno)))", inDestination: true)
        }
        for directory in directories where mkdir(destination + "/" + directory, 0o700) != 0 {
            throw Failure(
                description: "\(destination)/\(directory): \(String(cString: strerror(errno)))",
                inDestination: true
            )
        }
        var files: [(path: String, size: Int, crc: UInt32)] = []
        try walkFiles(source) { (path) throws(Failure) in
            guard let want = expected[path] else { throw Failure(description: "\(path) is not in the manifest") }
            files.append((path, want.size, want.crc))
        }
        guard files.count == expected.count else {
            throw Failure(description: "\(expected.count - files.count) file(s) of the manifest are missing")
        }
        // Most of the ~200 files are small, and creating them is kernel work a second thread shares. But
        // the copy runs while valgrind reads the server's symbols on one core, and a thread more than the
        // cores left beside it slows that start. On two cores, 10 alternating starts each: valgrind made its
        // FIFOs 192 ms after it started with two copying threads, 170 ms with one; the copy took 54 and 62 ms,
        // well inside that.
        let threads = Self.copyThreads(processors: ManagedServer.onlineProcessors)
        let next = Mutex(0)
        let failure = Mutex<Failure?>(nil)
        let work = files
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while failure.withLock({ $0 == nil }) {
                let index = next.withLock { index in
                    defer { index += 1 }
                    return index
                }
                guard index < work.count else { return }
                let file = work[index]
                do throws(Failure) {
                    let (size, crc) = try checksum(source + "/" + file.path, copyingTo: destination + "/" + file.path)
                    guard size == file.size, crc == file.crc else {
                        throw Failure(description: "\(file.path) does not match its checksum in the manifest")
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        if let failed = failure.withLock({ $0 }) { throw failed }
    }

    /// Threads that copy a datadir: the cores left beside the one valgrind's start needs, one to two.
    static func copyThreads(processors: Int) -> Int { min(2, max(1, processors - 1)) }

    /// Calls `body` with the relative path of every regular file below `directory`.
    private static func walkFiles(
        _ directory: String,
        _ relative: String = "",
        _ body: (String) throws(Failure) -> Void
    ) throws(Failure) {
        let absolute = relative.isEmpty ? directory : directory + "/" + relative
        guard FileIO.exists(absolute) else { throw Failure(description: "\(absolute) is missing") }
        for name in FileIO.list(absolute) {
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(directory + "/" + path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                try walkFiles(directory, path, body)
            } else {
                try body(path)
            }
        }
    }

    /// The size and CRC-32 of a file, copying it to `destination` (mode 0660) on the way when given.
    ///
    /// The copy leaves holes where the source has whole 4 KiB blocks of zeros: three quarters of a fresh
    /// MariaDB 10.11 datadir are such blocks (the unused pages of `ibdata1`, the empty redo log), and
    /// writing them into the page cache was most of the copy's time (about 70 ms of 26 MB here). A hole
    /// reads as zeros, so the server sees the same bytes, and the checksum is of every byte read.
    static func checksum(_ path: String, copyingTo destination: String?) throws(Failure) -> (Int, UInt32) {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var output: Int32 = -1
        if let destination {
            output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o660)
            guard output >= 0 else {
                throw Failure(description: "\(destination): \(String(cString: strerror(errno)))", inDestination: true)
            }
        }
        defer { if output >= 0 { close(output) } }
        func destinationFailure() -> Failure {
            Failure(description: "\(destination ?? path): \(String(cString: strerror(errno)))", inDestination: true)
        }
        let chunkSize = 1 << 20
        // Page-aligned: the kernel copies into it several times faster than into a 16-byte-aligned buffer.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: Self.holeBlock)
        defer { buffer.deallocate() }
        var crc = CZlib.crc32(0, nil, 0)
        var size = 0
        while true {
            let count = read(input, buffer, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "\(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            crc = CZlib.crc32(crc, buffer.assumingMemoryBound(to: UInt8.self), UInt32(count))
            if output >= 0 {
                for run in dataRuns(UnsafeRawBufferPointer(start: buffer, count: count)) {
                    var written = 0
                    while written < run.count {
                        let result = pwrite(
                            output,
                            buffer + run.lowerBound + written,
                            run.count - written,
                            off_t(size + run.lowerBound + written)
                        )
                        if result < 0 {
                            if errno == EINTR { continue }
                            throw destinationFailure()
                        }
                        written += result
                    }
                }
            }
            size += count
        }
        // A file that ends in zeros gets its length from here: nothing was written there.
        if output >= 0 && ftruncate(output, off_t(size)) != 0 { throw destinationFailure() }
        return (size, UInt32(crc))
    }

    /// The block size below which a copy writes zeros instead of leaving a hole (the page size).
    static let holeBlock = 4096

    /// The byte ranges of `bytes` to write: every run of ``holeBlock``-sized blocks (the last may be
    /// shorter) that are not all zeros, merged when adjacent.
    static func dataRuns(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + holeBlock, bytes.count)
            if !isZero(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) {
                if let last = runs.last, last.upperBound == start {
                    runs[runs.count - 1] = last.lowerBound..<end
                } else {
                    runs.append(start..<end)
                }
            }
            start = end
        }
        return runs
    }

    /// Whether every byte is zero (eight at a time; the block starts are 8-byte aligned in the buffer).
    private static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        var index = 0
        while index < words {
            if bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 { return false }
            index += 1
        }
        for offset in (words * 8)..<bytes.count where bytes[offset] != 0 { return false }
        return true
    }

    private static func writeText(_ path: String, _ text: String) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) == $0.count }
    }
}

/// The environment variables that place the cache.
enum ProcessEnvironment {
    static func cacheVariables() -> [String: String] {
        var values: [String: String] = [:]
        for name in ["SNAPCTL_CACHE_DIR", "XDG_CACHE_HOME", "HOME"] {
            if let value = getenv(name) { values[name] = String(cString: value) }
        }
        return values
    }
}

/// Runs blocking file work (copying and checksumming a datadir) on a thread of its own, off the cooperative pool.
actor BlockingFileWork {
    private nonisolated let executor = ThreadExecutor(name: "datadir-cache")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    static func run<T: Sendable, E: Error>(_ body: @Sendable () throws(E) -> T) async throws(E) -> T {
        let worker = BlockingFileWork()
        let result = await worker.perform { () -> Result<T, E> in
            do throws(E) { return .success(try body()) } catch { return .failure(error) }
        }
        worker.executor.stop()
        return try result.get()
    }

    private func perform<T: Sendable>(_ body: @Sendable () -> T) -> T { body() }
}
