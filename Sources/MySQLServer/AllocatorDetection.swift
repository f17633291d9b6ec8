#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A malloc replacement found in the server's process, and the `--soname-synonyms` Massif needs for it.
///
/// Massif counts what it intercepts: `malloc`, `free` and friends of the C library. A server that runs on
/// jemalloc or tcmalloc (linked in, or preloaded with `LD_PRELOAD`) calls those libraries' own `malloc`,
/// which Massif does not replace unless told that the library's soname is a synonym of the C library's
/// (`--soname-synonyms=somalloc=*jemalloc*`). Without it the heap looks flat and every allocation is missed.
public struct AllocatorDetection: Sendable, Hashable, Codable {
    /// Which allocator.
    public enum Kind: String, Sendable, Hashable, Codable {
        case jemalloc
        case tcmalloc
        /// A library that looks like a malloc replacement but that snapctl has no synonym for (mimalloc,
        /// Hoard, snmalloc, ...): the user sets `--soname-synonyms` through `massif.options`.
        case unknown
    }

    /// Where the allocator was seen.
    public enum Source: String, Sendable, Hashable, Codable {
        /// A `DT_NEEDED` entry of the server binary.
        case neededLibrary = "needed_library"
        /// `LD_PRELOAD` in the server's environment.
        case preload = "ld_preload"
        /// A mapping in `/proc/PID/maps` of the running (attached) process.
        case maps
    }

    public var kind: Kind
    /// The library as it was named (a soname or a path).
    public var library: String
    public var source: Source

    public init(kind: Kind, library: String, source: Source) {
        self.kind = kind
        self.library = library
        self.source = source
    }

    /// The `--soname-synonyms` value that makes Massif replace this allocator's functions; `nil` for an
    /// unknown one. The pattern matches the library's soname wherever it is installed.
    public var sonameSynonyms: String? {
        switch kind {
        case .jemalloc: return "somalloc=*jemalloc*"
        case .tcmalloc: return "somalloc=*tcmalloc*"
        case .unknown: return nil
        }
    }

    /// The Massif option, `--soname-synonyms=...`.
    public var massifOption: String? { sonameSynonyms.map { "--soname-synonyms=" + $0 } }

    /// One line for logs and the doctor: `jemalloc (libjemalloc.so.2, from LD_PRELOAD)`.
    public var summary: String {
        let from: String
        switch source {
        case .neededLibrary: from = "linked in"
        case .preload: from = "from LD_PRELOAD"
        case .maps: from = "mapped in the process"
        }
        return "\(kind.rawValue) (\(library), \(from))"
    }
}

/// Finds malloc replacements: pure classification of library names, and the reads that gather them.
public enum AllocatorDetector {
    /// What kind of allocator a library file name is, or `nil` for an ordinary library.
    ///
    /// jemalloc and tcmalloc (including `tcmalloc_minimal` and the debug builds) are known; other names that
    /// say they allocate (`mimalloc`, `hoard`, `snmalloc`, `rpmalloc`, `*malloc*` other than the C library's
    /// own) are `unknown`, so that the doctor can say that Massif will not see their blocks.
    public static func classify(_ library: String) -> AllocatorDetection.Kind? {
        let name = (library.split(separator: "/").last.map(String.init) ?? library).lowercased()
        if name.contains("jemalloc") { return .jemalloc }
        if name.contains("tcmalloc") { return .tcmalloc }
        // Valgrind's own preloads (vgpreload_massif-amd64-linux.so) replace malloc on purpose.
        if name.hasPrefix("vgpreload") { return nil }
        let markers = ["malloc", "hoard", "rpmalloc", "snmalloc"]
        if markers.contains(where: { name.contains($0) }) { return .unknown }
        return nil
    }

    /// The libraries named by an `LD_PRELOAD` value: separated by spaces or colons, as ld.so reads it.
    public static func preloadLibraries(_ value: String) -> [String] {
        value.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "\t" }).map(String.init)
    }

    /// The allocators among libraries gathered from one source, each library once, in order.
    public static func detect(libraries: [String], source: AllocatorDetection.Source) -> [AllocatorDetection] {
        var seen = Set<String>()
        var found: [AllocatorDetection] = []
        for library in libraries where seen.insert(library).inserted {
            if let kind = classify(library) {
                found.append(AllocatorDetection(kind: kind, library: library, source: source))
            }
        }
        return found
    }

    /// The library paths a `/proc/PID/maps` text maps (the sixth field of lines that have one).
    public static func mappedLibraries(maps: String) -> [String] {
        var paths: [String] = []
        var seen = Set<String>()
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let path = fields[5].trimmingCharacters(in: " ")
            guard path.hasPrefix("/"), path.contains(".so"), seen.insert(path).inserted else { continue }
            paths.append(path)
        }
        return paths
    }

    /// The allocators a server started by snapctl will run on: the binary's needed libraries, then
    /// `LD_PRELOAD` of its environment (which wins at run time, so it comes last).
    public static func detect(binary: String, environment: [String: String]) -> [AllocatorDetection] {
        var found = detect(libraries: ELFSymbols.neededLibraries(binary), source: .neededLibrary)
        if let preload = environment["LD_PRELOAD"] {
            found += detect(libraries: preloadLibraries(preload), source: .preload)
        }
        return found
    }

    /// The allocators mapped into a running process (an attached server), from `/proc/PID/maps`.
    public static func detect(pid: Int32) -> [AllocatorDetection] {
        guard let maps = FileIO.readStream("/proc/\(pid)/maps", limit: 8 << 20) else { return [] }
        return detect(libraries: mappedLibraries(maps: maps), source: .maps)
    }

    /// The directories ld.so searches for a bare library name: `LD_LIBRARY_PATH`, then the system's.
    public static func librarySearchPath(environment: [String: String]) -> [String] {
        let user = (environment["LD_LIBRARY_PATH"] ?? "").split(separator: ":").map(String.init)
        return user + [
            "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
        ]
    }

    /// Checks that every library `LD_PRELOAD` names exists (ld.so would only print a warning and start the
    /// server on the C library's malloc, so the run would silently measure something else).
    public static func checkPreload(environment: [String: String]) throws(ServerError) {
        guard let value = environment["LD_PRELOAD"] else { return }
        let search = librarySearchPath(environment: environment)
        for library in preloadLibraries(value) {
            // ld.so expands $LIB and $PLATFORM; such names are left to it.
            if library.contains("$") { continue }
            if library.contains("/") {
                if FileIO.size(library) == nil { throw .preloadMissing(library: library, searched: []) }
            } else if !search.contains(where: { FileIO.size($0 + "/" + library) != nil }) {
                throw .preloadMissing(library: library, searched: search)
            }
        }
    }

    /// The `--soname-synonyms` options for `allocators`, unless the user's Massif options already set one
    /// (theirs win, and valgrind takes one value); each distinct option once.
    public static func massifOptions(for allocators: [AllocatorDetection], userOptions: [String]) -> [String] {
        if userOptions.contains(where: { $0.hasPrefix("--soname-synonyms") }) { return [] }
        var options: [String] = []
        for allocator in allocators {
            if let option = allocator.massifOption, !options.contains(option) { options.append(option) }
        }
        // One somalloc synonym: the allocator that wins at run time, a preloaded one over a linked one
        // (the list has preloads last).
        return Array(options.suffix(1))
    }
}

extension FileIO {
    /// A file read to its end, at most `limit` bytes: for `/proc` files, whose size `lseek` does not know.
    static func readStream(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(fd, base, buffer.count)
            }
            if count <= 0 { break }
            bytes += chunk.prefix(count)
        }
        return String(decoding: bytes.prefix(limit), as: UTF8.self)
    }

    /// A process's command line from `/proc/PID/cmdline`, one word per argument; `nil` if unreadable.
    static func commandLine(pid: Int32) -> [String]? {
        guard let text = readStream("/proc/\(pid)/cmdline", limit: 1 << 20), !text.isEmpty else { return nil }
        return text.split(separator: "\u{0}", omittingEmptySubsequences: true).map(String.init)
    }

    /// One variable of a process's environment (`/proc/PID/environ`, readable by its owner and root);
    /// `nil` when it is not set or the file cannot be read. Only that variable is kept: the others may
    /// hold secrets.
    ///
    /// glibc before 2.39 parses `GLIBC_TUNABLES` in place, writing a NUL over each `:`, so in a process
    /// that is not under valgrind the value reads back as one entry plus one entry per further tunable;
    /// entries after it that start with `glibc.` are joined back on.
    static func environmentValue(pid: Int32, name: String) -> String? {
        guard let text = readStream("/proc/\(pid)/environ", limit: 4 << 20) else { return nil }
        let prefix = name + "="
        let entries = text.split(separator: "\u{0}", omittingEmptySubsequences: true)
        guard let index = entries.firstIndex(where: { $0.hasPrefix(prefix) }) else { return nil }
        var value = String(entries[index].dropFirst(prefix.count))
        if name == "GLIBC_TUNABLES" {
            for piece in entries[(index + 1)...] {
                guard piece.hasPrefix("glibc.") else { break }
                value += ":" + piece
            }
        }
        return value
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var view = self
        while view.first == set { view = view.dropFirst() }
        while view.last == set { view = view.dropLast() }
        return String(view)
    }
}
