import Foundation
import Massif
import Report
import RunRecord
import Session
import TestSupport
import Testing
import TextFormat

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The whole server's memory against a real MariaDB under Massif: pages mode, and servers on jemalloc and
/// tcmalloc.
@Suite("whole-server memory: pages mode and malloc replacements (integration)", .serialized)
struct WholeServerMemoryTests {
    typealias Support = SessionTestSupport

    static let jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    static let tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"

    /// The last detailed snapshot file of a run, parsed.
    static func lastTree(_ run: String, _ manifest: RunManifest) throws -> HeapTree {
        let record = try #require(manifest.snapshots.last { $0.kind == .detailed })
        let data = try #require(FileManager.default.contents(atPath: run + "/" + record.file))
        let file = try MassifFile.parse([UInt8](data), fileName: record.file)
        return try #require(file.snapshots.last?.tree)
    }

    @Test("pages_as_heap: the report sets innodb_buffer_pool_size beside the pages mapped for it")
    func pagesModeMeasuresTheBufferPool() async throws {
        let scratch = try Scratch("pg")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "pages.yaml",
            """
            version: 1
            name: pages
            server:
              options: [--innodb-buffer-pool-size=96M]
              init_sql: [CREATE DATABASE app]
            massif: {pages_as_heap: true}
            connections: [{name: main, database: app}]
            steps:
              - label: fill
                sql: CREATE TABLE m (id INT, v CHAR(200)) ENGINE=MEMORY; INSERT INTO m SELECT seq, 'x' FROM seq_1_to_20000
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.server?.pagesAsHeap == true)
        #expect(manifest.server?.valgrindCommand.contains("--pages-as-heap=yes") == true)
        #expect(manifest.server?.memoryVariables["innodb_buffer_pool_size"] == 96 << 20)

        // The pages mapped under the buffer pool's allocation path hold at least the configured pool.
        let tree = try Self.lastTree(scratch.run, manifest)
        #expect(tree.top == .pageAllocationSyscalls)
        let buffers = GlobalBuffers.measure(tree, variables: manifest.server?.memoryVariables ?? [:])
        let pool = try #require(buffers.first { $0.variable == "innodb_buffer_pool_size" })
        #expect((pool.measured ?? 0) >= 96 << 20, "\(pool)")
        #expect(!pool.sites.isEmpty)
        let keyCache = try #require(buffers.first { $0.variable == "key_buffer_size" })
        #expect((keyCache.measured ?? 0) > 64 << 20, "\(keyCache)")

        // report.json carries the same figures.
        #expect(result.report.globalBuffers?.first { $0.variable == "innodb_buffer_pool_size" } == pool)
        let json = try String(contentsOfFile: scratch.run + "/report.json", encoding: .utf8)
        #expect(json.contains("\"global_buffers\"") && json.contains("\"measured_B\""))

        let html = try String(contentsOfFile: scratch.run + "/report.html", encoding: .utf8)
        #expect(html.contains("Global buffers: measured as pages"))
        let table = try #require(html.range(of: "id=\"global-buffer-table\""))
        let row = try #require(
            html.range(of: "<td class=\"mono\">innodb_buffer_pool_size</td>", range: table.upperBound..<html.endIndex)
        )
        let rowText = String(html[row.upperBound...].prefix(400))
        #expect(rowText.contains("96.0 MiB"), "\(rowText)")
        #expect(rowText.contains(Format.bytes(pool.measured ?? 0)), "\(rowText)")
        // The other lenses still work on pages: the step's change and its flame graph section. (The MEMORY
        // table's rows fit in malloc arenas mapped before, so the step maps few or no new pages.)
        let fill = try #require(result.report.steps.first { $0.label == "fill" })
        #expect(fill.before != nil && fill.after != nil, "\(fill)")
        #expect(html.contains("Flame graph of the growth, before-fill to after-fill"))
    }

    /// Runs a MEMORY-table step on a server with `library` preloaded; returns the manifest and the growth.
    func runPreloaded(_ library: String, name: String) async throws -> (RunManifest, StepReport, String) {
        let scratch = try Scratch(name)
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "alloc.yaml",
            """
            version: 1
            name: \(name)
            server:
              env: {LD_PRELOAD: \(library)}
              init_sql: [CREATE DATABASE app]
            connections: [{name: main, database: app}]
            steps:
              - label: create
                sql: CREATE TABLE m (id INT, v CHAR(200)) ENGINE=MEMORY
              - label: fill
                sql: INSERT INTO m SELECT seq, 'x' FROM seq_1_to_20000
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        let log = try String(contentsOfFile: scratch.run + "/logs/snapctl.log", encoding: .utf8)
        let fill = try #require(result.report.steps.first { $0.label == "fill" })
        return (manifest, fill, log)
    }

    @Test("jemalloc preloaded: snapctl adds --soname-synonyms and the MEMORY table's growth is measured")
    func jemallocServer() async throws {
        let (manifest, fill, log) = try await runPreloaded(Self.jemalloc, name: "je")
        #expect(
            manifest.server?.allocators == [
                RunManifest.Allocator(kind: "jemalloc", library: Self.jemalloc, source: "ld_preload")
            ]
        )
        #expect(manifest.server?.sonameSynonyms == "--soname-synonyms=somalloc=*jemalloc*")
        #expect(manifest.server?.valgrindCommand.contains("--soname-synonyms=somalloc=*jemalloc*") == true)
        #expect(log.contains("allocator: jemalloc (\(Self.jemalloc), from LD_PRELOAD); added --soname-synonyms"))
        // 20000 rows of about 200 bytes.
        #expect((fill.delta ?? 0) > 3 << 20, "\(fill)")
        #expect(!fill.sites.isEmpty)
    }

    @Test("tcmalloc preloaded: snapctl adds --soname-synonyms and the MEMORY table's growth is measured")
    func tcmallocServer() async throws {
        let (manifest, fill, log) = try await runPreloaded(Self.tcmalloc, name: "tc")
        #expect(manifest.server?.allocators?.first?.kind == "tcmalloc")
        #expect(manifest.server?.sonameSynonyms == "--soname-synonyms=somalloc=*tcmalloc*")
        #expect(manifest.server?.valgrindCommand.contains("--soname-synonyms=somalloc=*tcmalloc*") == true)
        #expect(log.contains("allocator: tcmalloc"))
        #expect((fill.delta ?? 0) > 3 << 20, "\(fill)")
    }

    @Test("an allocator snapctl does not know: the run warns and names --soname-synonyms for massif.options")
    func unknownAllocatorWarns() async throws {
        let scratch = try Scratch("ua")
        defer { scratch.cleanup() }
        // Not a real library: the dynamic linker ignores it, which is fine for what is checked here.
        let library = scratch.path + "/libmimalloc.so.2"
        FileManager.default.createFile(atPath: library, contents: Data())
        let plan = try scratch.write(
            "ua.yaml",
            """
            version: 1
            name: ua
            server:
              env: {LD_PRELOAD: \(library)}
            steps: [{snap: a}]
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.server?.allocators?.first?.kind == "unknown")
        #expect(manifest.server?.sonameSynonyms == nil)
        #expect(manifest.server?.valgrindCommand.contains { $0.hasPrefix("--soname-synonyms") } == false)
        let warning = manifest.warnings.first { $0.contains("an allocator snapctl does not know") }
        #expect(warning?.contains("set --soname-synonyms=somalloc=") == true, "\(manifest.warnings)")
        #expect(warning?.contains("massif.options") == true)
    }

    @Test("a preloaded library that does not exist is refused before the server starts, naming it")
    func missingPreload() async throws {
        let scratch = try Scratch("np")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "np.yaml",
            """
            version: 1
            name: np
            server:
              env: {LD_PRELOAD: /nonexistent/libjemalloc.so.2}
            steps: [{snap: a}]
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 1)
        #expect(result.manifest.outcome.status == .startFailed)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.contains("/nonexistent/libjemalloc.so.2"), "\(message)")
        #expect(message.contains("does not exist") && message.contains("not started"), "\(message)")
        // Refused before anything started: no datadir was made.
        #expect(!FileManager.default.fileExists(atPath: scratch.run + "/server/data/mysql"))
        try Support.expectFinalised(result)
    }

    @Test("pages_as_heap against an attached valgrind started without it is refused, naming the flag")
    func pagesAsHeapAttachRefused() async throws {
        let scratch = try Scratch("pa")
        defer { scratch.cleanup() }
        // A real valgrind with vgdb, running a program that waits: what a user would attach to.
        let prefix = scratch.path + "/vgdb"
        let valgrind = Process()
        valgrind.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
        valgrind.arguments = [
            "--tool=massif", "--vgdb=yes", "--vgdb-prefix=\(prefix)", "--massif-out-file=\(scratch.path)/m.out",
            "--log-file=\(scratch.path)/vg.log", "/bin/sleep", "60",
        ]
        try valgrind.run()
        defer {
            // SIGKILL: a guest asleep in a system call takes SIGTERM only when it wakes.
            kill(valgrind.processIdentifier, SIGKILL)
            valgrind.waitUntilExit()
        }
        let pid = valgrind.processIdentifier
        // Wait for its FIFOs, so that the only thing wrong is the missing flag.
        for _ in 0..<200 where fifos(under: scratch.path).isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
        let plan = try scratch.write(
            "pa.yaml",
            """
            version: 1
            name: pa
            attach: {pid: \(pid), vgdb_prefix: \(prefix)}
            massif: {pages_as_heap: true}
            steps: [{snap: a}]
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 1)
        #expect(result.manifest.outcome.status == .startFailed)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.contains("--pages-as-heap=yes") && message.contains("valgrind process \(pid)"), "\(message)")
        #expect(kill(pid, 0) == 0, "snapctl must not stop a server it attached to")
    }
}
