import ArgumentParser
import Foundation
import Plan
import RunRecord
import Session
import Synchronization
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory for one test: short (the server's socket path must fit in 107 bytes), removed
/// at the end.
struct Scratch {
    let path: String

    init(_ name: String) throws {
        path = "/tmp/snapctl-st-\(name)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    var run: String { path + "/run" }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Events a session reported, collected from its callback.
final class Events: Sendable {
    private let events = Mutex<[SessionEvent]>([])
    func append(_ event: SessionEvent) { events.withLock { $0.append(event) } }
    var all: [SessionEvent] { events.withLock { $0 } }
}

enum SessionTestSupport {
    /// The repository's root, from this file's path.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Loads a plan as the CLI does, and runs it.
    static func run(
        planFile: String,
        out: String,
        events: Events = Events(),
        onEvent: @escaping @Sendable (SessionEvent) -> Void = { _ in }
    ) async throws -> SessionResult {
        let (plan, text) = try SessionCommand.loadPlan(planFile)
        let options = SessionOptions(
            plan: plan,
            planText: text,
            planSource: planFile,
            runDirectory: out,
            events: { event in
                events.append(event)
                onEvent(event)
            }
        )
        return try await Session.run(options)
    }

    static func manifest(_ run: String) throws -> RunManifest {
        let data = try #require(FileManager.default.contents(atPath: run + "/manifest.json"))
        return try RunManifest.decode(data, path: run + "/manifest.json")
    }

    /// Checks that the run left nothing running and nothing behind: the valgrind pid is gone, no process
    /// mentions the run directory on its command line, no FIFO is left, and every checksum matches.
    static func expectFinalised(_ result: SessionResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = result.runDirectory
        if let pid = result.manifest.server?.pid {
            #expect(
                kill(pid, 0) == -1 && errno == ESRCH,
                "valgrind pid \(pid) is still alive",
                sourceLocation: sourceLocation
            )
        }
        #expect(
            processesMentioning(run).isEmpty,
            "processes left: \(processesMentioning(run))",
            sourceLocation: sourceLocation
        )
        #expect(fifos(under: run).isEmpty, "FIFOs left: \(fifos(under: run))", sourceLocation: sourceLocation)
        let manifest = try manifest(run)
        #expect(manifest.outcome.status != .running, sourceLocation: sourceLocation)
        #expect(manifest.outcome.exitCode == result.exitCode, sourceLocation: sourceLocation)
        #expect(manifest.finishedAt != nil, sourceLocation: sourceLocation)
        for name in ["report.txt", "report.json", "SHA256SUMS", "plan.yaml", "logs/snapctl.log"] {
            #expect(
                FileManager.default.fileExists(atPath: run + "/" + name),
                "\(name) missing",
                sourceLocation: sourceLocation
            )
        }
        try verifyChecksums(run, sourceLocation: sourceLocation)
    }

    /// Recomputes every line of SHA256SUMS.
    static func verifyChecksums(_ run: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sums = try String(contentsOfFile: run + "/SHA256SUMS", encoding: .utf8)
        let lines = sums.split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix("  manifest.json") }, sourceLocation: sourceLocation)
        #expect(lines.contains { $0.hasSuffix("  report.txt") }, sourceLocation: sourceLocation)
        for line in lines {
            let digest = String(line.prefix(64))
            let file = String(line.dropFirst(66))
            let data = try #require(FileManager.default.contents(atPath: run + "/" + file))
            #expect(SHA256.hex([UInt8](data)) == digest, "checksum of \(file)", sourceLocation: sourceLocation)
        }
    }

    static func processesMentioning(_ text: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [String] = []
        for entry in entries where Int32(entry) != nil && Int32(entry) != getpid() {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if line.contains(text) { found.append("\(entry): \(line)") }
        }
        return found
    }

    static func fifos(under path: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        var found: [String] = []
        while let next = enumerator.nextObject() as? String {
            var info = stat()
            if lstat(path + "/" + next, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO { found.append(next) }
        }
        return found
    }

    /// Runs `snapctl ARGS` in-process and returns the exit status it would have.
    static func exitStatus(_ arguments: [String]) async -> Int32 {
        do {
            var command = try Snapctl.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            return Snapctl.exitCode(for: error).rawValue
        }
    }
}

/// A flag one task sets and another polls.
final class TestFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
