import Foundation
import TestSupport
import Testing

@testable import MySQLServer

/// The datadir cache with the real `mariadb-install-db`: built once, copied and verified after, rebuilt when the
/// server version or the initialisation options change or the entry is damaged, safe for concurrent runs.
@Suite("Datadir cache (real mariadb-install-db)", .serialized)
struct DatadirCacheTests {
    struct Setup {
        let root: Scratch
        let adapter: FlavorAdapter
        let initialiser: String

        init(
            redoLogSize: String = "8M",
            versionLine: String? = nil,
            binaryPath: String? = nil,
            root: Scratch? = nil
        ) async throws {
            self.root = try root ?? Scratch("cache")
            let path = try binaryPath ?? ServerLocator.resolve("mariadbd", path: nil)
            var binary = try await ServerLocator.identify(path)
            if let versionLine { binary.versionLine = versionLine }
            adapter = FlavorAdapter(
                binary: binary,
                runningAsRoot: ServerLocator.runningAsRoot,
                redoLogSize: redoLogSize
            )
            initialiser = try #require(
                ServerLocator.initialiser(for: binary, path: nil),
                "mariadb-install-db is not installed (scripts/setup installs mariadb-server)"
            )
        }

        /// Prepares a fresh run's datadir from the cache; returns the run and what the launch reported.
        func prepare(_ label: String) async throws -> (Scratch, [LaunchProgress]) {
            let run = try Scratch(label)
            let layout = ServerRunLayout(runDirectory: run.path)
            try FileIO.makeDirectory(layout.serverDirectory, mode: 0o700)
            try FileIO.makeDirectory(layout.logsDirectory, mode: 0o755)
            let events = EventLog()
            try await ManagedServer.prepareDatadir(
                adapter: adapter,
                initialiser: initialiser,
                layout: layout,
                cache: .directory(root.path),
                progress: { events.append($0) }
            )
            return (run, events.snapshot())
        }
    }

    static func outcome(_ events: [LaunchProgress]) -> CachedDatadir? {
        for event in events { if case .datadirFromCache(let outcome) = event { return outcome } }
        return nil
    }

    static func initialised(_ events: [LaunchProgress]) -> Bool {
        events.contains { if case .initialisingDatadir = $0 { return true } else { return false } }
    }

    static func entries(_ root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/datadirs")) ?? []).sorted()
    }

    @Test("built once, then copied and verified; a copied datadir starts a server")
    func buildThenReuse() async throws {
        let setup = try await Setup()
        defer { setup.root.cleanup() }
        let (first, firstEvents) = try await setup.prepare("c1")
        defer { first.cleanup() }
        guard case .built(let entry) = Self.outcome(firstEvents) else {
            Issue.record("first run: expected a built entry, got \(firstEvents)")
            return
        }
        #expect(Self.initialised(firstEvents))
        #expect(Self.entries(setup.root.path) == [URL(fileURLWithPath: entry).lastPathComponent])

        let (second, secondEvents) = try await setup.prepare("c2")
        defer { second.cleanup() }
        #expect(Self.outcome(secondEvents) == .reused(entry: entry))
        #expect(!Self.initialised(secondEvents), "a cached datadir must not run the initialiser again")
        let copied = ServerRunLayout(runDirectory: second.path).datadir
        #expect(try DatadirCache.manifest(of: copied) == String(contentsOfFile: entry + "/manifest", encoding: .utf8))
        // The initialiser's buffer-pool dump is not kept: a server started on it would load those pages in
        // the background while it starts.
        #expect(FileIO.exists(copied + "/ibdata1"))
        #expect(!FileIO.exists(copied + "/" + ManagedServer.bufferPoolDump))
        #expect(!FileIO.exists(entry + "/server/data/" + ManagedServer.bufferPoolDump))
        let log = try String(
            contentsOfFile: ServerRunLayout(runDirectory: second.path).initialisationLog,
            encoding: .utf8
        )
        #expect(log.contains("copied from the cache entry \(entry)"))

        // A real server starts from a copy and runs SQL.
        let run = try Scratch("c3")
        defer { run.cleanup() }
        var options = LaunchOptions(runDirectory: run.path)
        options.datadirCache = .directory(setup.root.path)
        let events = EventLog()
        let server = try await ManagedServer.launch(options) { events.append($0) }
        do {
            #expect(Self.outcome(events.snapshot()) == .reused(entry: entry))
            let connection = try await server.connect(name: "main")
            let result = try await connection.execute("SELECT COUNT(*) FROM mysql.user WHERE user = 'root'")
            #expect(result.rows.first?.first ?? nil != "0")
            // Root is there on the socket only: no passwordless root for a server that listens on the network.
            let roots = try await connection.execute(
                "SELECT GROUP_CONCAT(Host ORDER BY Host) FROM mysql.global_priv WHERE User = 'root'"
            )
            #expect(roots.rows.first?.first ?? nil == "localhost")
            let proxies = try await connection.execute(
                "SELECT COUNT(*) FROM mysql.proxies_priv WHERE User = 'root' AND Host <> 'localhost'"
            )
            #expect(proxies.rows.first?.first ?? nil == "0")
            #expect(!FileIO.exists(ServerRunLayout(runDirectory: run.path).initialisationSQL))
            await connection.close()
        } catch {
            _ = await server.shutdown()
            throw error
        }
        _ = await server.shutdown()
    }

    @Test("a new server version or other initialisation options get an entry of their own")
    func versionOrOptionsChangeRebuilds() async throws {
        let setup = try await Setup()
        defer { setup.root.cleanup() }
        let (base, baseEvents) = try await setup.prepare("v1")
        defer { base.cleanup() }
        let baseEntry = try #require(Self.outcome(baseEvents)).entry

        let options = try await Setup(redoLogSize: "16M", root: setup.root)
        let (bigger, biggerEvents) = try await options.prepare("v2")
        defer { bigger.cleanup() }
        guard case .built(let optionsEntry) = Self.outcome(biggerEvents) else {
            Issue.record("other options: expected a new entry, got \(biggerEvents)")
            return
        }
        #expect(optionsEntry != baseEntry)
        #expect(Self.initialised(biggerEvents))
        let redo = ServerRunLayout(runDirectory: bigger.path).datadir + "/ib_logfile0"
        #expect(FileIO.size(redo) == 16 << 20, "the entry must be initialised with the new options")

        let newer = try await Setup(
            versionLine: setup.adapter.binary.versionLine + " (rebuilt)",
            root: setup.root
        )
        let (upgraded, upgradedEvents) = try await newer.prepare("v3")
        defer { upgraded.cleanup() }
        guard case .built(let versionEntry) = Self.outcome(upgradedEvents) else {
            Issue.record("other version: expected a new entry, got \(upgradedEvents)")
            return
        }
        #expect(Set([baseEntry, optionsEntry, versionEntry]).count == 3)
        #expect(Self.entries(setup.root.path).count == 3)
    }

    @Test("when the server binary changes (an upgrade), its old entries are deleted")
    func changedBinaryPrunesItsOldEntries() async throws {
        let scratch = try Scratch("bin")
        defer { scratch.cleanup() }
        let binary = scratch.path + "/mariadbd"
        try FileManager.default.copyItem(atPath: try ServerLocator.resolve("mariadbd", path: nil), toPath: binary)
        let setup = try await Setup(binaryPath: binary)
        defer { setup.root.cleanup() }
        let (first, firstEvents) = try await setup.prepare("u1")
        defer { first.cleanup() }
        let old = try #require(Self.outcome(firstEvents)).entry
        // The same path, a new modification time: another build of the server.
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -86_400)],
            ofItemAtPath: binary
        )
        let upgraded = try await Setup(binaryPath: binary, root: setup.root)
        let (second, secondEvents) = try await upgraded.prepare("u2")
        defer { second.cleanup() }
        guard case .built(let new) = Self.outcome(secondEvents) else {
            Issue.record("changed binary: expected a new entry, got \(secondEvents)")
            return
        }
        #expect(new != old)
        #expect(Self.entries(setup.root.path) == [URL(fileURLWithPath: new).lastPathComponent])
    }

    @Test("an entry an older snapctl made another way is not used, and is deleted when the new one is built")
    func olderFormatIsReplaced() async throws {
        let setup = try await Setup()
        defer { setup.root.cleanup() }
        let (first, firstEvents) = try await setup.prepare("f1")
        defer { first.cleanup() }
        let entry = try #require(Self.outcome(firstEvents)).entry
        // The same entry as an older snapctl would have keyed it: another first line, so another name.
        let key = try String(contentsOfFile: entry + "/key", encoding: .utf8)
        let oldKey = key.replacingOccurrences(of: DatadirCache.Key.format, with: "snapctl datadir cache 1")
        #expect(oldKey != key)
        let oldEntry = setup.root.path + "/datadirs/mariadb-old-format"
        try FileManager.default.copyItem(atPath: entry, toPath: oldEntry)
        try oldKey.write(toFile: oldEntry + "/key", atomically: true, encoding: .utf8)
        // Our entry goes too; the next run builds it again and deletes the older one.
        try FileManager.default.removeItem(atPath: entry)
        let (second, secondEvents) = try await setup.prepare("f2")
        defer { second.cleanup() }
        guard case .built(let rebuilt) = Self.outcome(secondEvents) else {
            Issue.record("expected the entry to be built again, got \(secondEvents)")
            return
        }
        #expect(rebuilt == entry)
        #expect(Self.entries(setup.root.path) == [URL(fileURLWithPath: entry).lastPathComponent])
    }

    @Test("a damaged entry is detected, replaced, and the run still gets a good datadir")
    func corruptEntryIsRebuilt() async throws {
        let setup = try await Setup()
        defer { setup.root.cleanup() }
        let (first, firstEvents) = try await setup.prepare("d1")
        defer { first.cleanup() }
        let entry = try #require(Self.outcome(firstEvents)).entry

        // One flipped byte in the system tablespace.
        let ibdata = entry + "/server/data/ibdata1"
        let handle = try #require(FileHandle(forUpdatingAtPath: ibdata))
        try handle.seek(toOffset: 4096)
        let byte = try #require(try handle.read(upToCount: 1)).first ?? 0
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()
        let (second, secondEvents) = try await setup.prepare("d2")
        defer { second.cleanup() }
        guard case .rebuilt(let rebuilt, let reason) = Self.outcome(secondEvents) else {
            Issue.record("flipped byte: expected a rebuilt entry, got \(secondEvents)")
            return
        }
        #expect(reason.contains("ibdata1 does not match its checksum"), "\(reason)")
        #expect(rebuilt == entry)
        #expect(Self.initialised(secondEvents))
        let copied = ServerRunLayout(runDirectory: second.path).datadir
        #expect(try DatadirCache.manifest(of: copied) == String(contentsOfFile: entry + "/manifest", encoding: .utf8))

        // A missing manifest and an unexpected file are caught too.
        try FileManager.default.removeItem(atPath: entry + "/manifest")
        let (third, thirdEvents) = try await setup.prepare("d3")
        defer { third.cleanup() }
        guard case .rebuilt(_, let missing) = Self.outcome(thirdEvents) else {
            Issue.record("no manifest: expected a rebuilt entry, got \(thirdEvents)")
            return
        }
        #expect(missing.contains("manifest is missing"), "\(missing)")
        try Data("x".utf8).write(to: URL(fileURLWithPath: entry + "/server/data/mysql/intruder.frm"))
        let (fourth, fourthEvents) = try await setup.prepare("d4")
        defer { fourth.cleanup() }
        guard case .rebuilt(_, let extra) = Self.outcome(fourthEvents) else {
            Issue.record("extra file: expected a rebuilt entry, got \(fourthEvents)")
            return
        }
        #expect(extra.contains("intruder.frm is not in the manifest"), "\(extra)")
        #expect(Self.entries(setup.root.path) == [URL(fileURLWithPath: entry).lastPathComponent])
    }

    @Test("runs that fill an empty cache at the same time both get a datadir and leave one entry")
    func concurrentRunsShareOneEntry() async throws {
        let setup = try await Setup()
        defer { setup.root.cleanup() }
        async let a = setup.prepare("p1")
        async let b = setup.prepare("p2")
        let (first, firstEvents) = try await a
        let (second, secondEvents) = try await b
        defer {
            first.cleanup()
            second.cleanup()
        }
        let one = try #require(Self.outcome(firstEvents)).entry
        let two = try #require(Self.outcome(secondEvents)).entry
        #expect(one == two)
        #expect(Self.entries(setup.root.path) == [URL(fileURLWithPath: one).lastPathComponent])
        for run in [first, second] {
            let copied = ServerRunLayout(runDirectory: run.path).datadir
            #expect(try DatadirCache.manifest(of: copied) == String(contentsOfFile: one + "/manifest", encoding: .utf8))
        }
    }

    @Test("a copy leaves holes for whole zero blocks, keeps every byte, and ends at the source's length")
    func sparseCopy() throws {
        let scratch = try Scratch("sparse")
        defer { scratch.cleanup() }
        let block = DatadirCache.holeBlock
        // data, 64 zero blocks, a block with one byte set at its end, 100 zero blocks, a short zero tail
        var bytes = [UInt8](repeating: 7, count: block)
        bytes += [UInt8](repeating: 0, count: 64 * block)
        bytes += [UInt8](repeating: 0, count: block - 1) + [1]
        bytes += [UInt8](repeating: 0, count: 100 * block + 123)
        let source = try scratch.write("source", bytes: bytes)
        let copy = scratch.path + "/copy"
        let (size, crc) = try DatadirCache.checksum(source, copyingTo: copy)
        #expect(size == bytes.count)
        #expect(crc == DatadirCache.Key.crc32(bytes))
        #expect(FileManager.default.contents(atPath: copy) == Data(bytes))
        var info = stat()
        #expect(stat(copy, &info) == 0)
        #expect(
            Int(info.st_blocks) * 512 <= 4 * block,
            "only the two data blocks are written: \(info.st_blocks) blocks"
        )

        let runs = bytes.withUnsafeBytes { DatadirCache.dataRuns($0) }
        #expect(runs == [0..<block, 65 * block..<66 * block])
        #expect([UInt8](repeating: 0, count: 10).withUnsafeBytes { DatadirCache.dataRuns($0) }.isEmpty)
        #expect(
            [UInt8](repeating: 1, count: 2 * block + 5).withUnsafeBytes { DatadirCache.dataRuns($0) } == [
                0..<(2 * block + 5)
            ]
        )
    }

    @Test("the copy leaves a core to valgrind's start: one thread on one or two cores, two from three cores on")
    func copyThreads() {
        #expect(DatadirCache.copyThreads(processors: 0) == 1)
        #expect(DatadirCache.copyThreads(processors: 1) == 1)
        #expect(DatadirCache.copyThreads(processors: 2) == 1)
        #expect(DatadirCache.copyThreads(processors: 3) == 2)
        #expect(DatadirCache.copyThreads(processors: 64) == 2)
    }

    @Test("the cache location: SNAPCTL_CACHE_DIR, then XDG_CACHE_HOME/snapctl, then ~/.cache/snapctl")
    func cacheLocation() {
        let all = ["SNAPCTL_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]
        #expect(DatadirCacheSetting.automatic.root(environment: all) == "/c")
        #expect(
            DatadirCacheSetting.automatic.root(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/snapctl"
        )
        #expect(DatadirCacheSetting.automatic.root(environment: ["HOME": "/h"]) == "/h/.cache/snapctl")
        #expect(DatadirCacheSetting.automatic.root(environment: [:]) == nil)
        #expect(DatadirCacheSetting.disabled.root(environment: all) == nil)
        #expect(DatadirCacheSetting.directory("/d").root(environment: all) == "/d")
    }
}
