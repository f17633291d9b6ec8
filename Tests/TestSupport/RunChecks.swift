import Crypto
import Foundation
import RunRecord
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Checks on a finished run directory, the same for a session, the REPL and a replay.
public enum RunChecks {
    /// The run's `manifest.json`.
    public static func manifest(_ run: String) throws -> RunManifest {
        let data = try #require(FileManager.default.contents(atPath: run + "/manifest.json"), "no manifest in \(run)")
        return try RunManifest.decode(data, path: run + "/manifest.json")
    }

    /// The run left nothing running and nothing behind: the valgrind pid is gone, no process mentions the
    /// run directory, no FIFO is left, the record is complete (`files` all there) and every checksum matches.
    public static func expectFinalised(
        _ run: String,
        exitCode: Int32,
        status: RunManifest.RunStatus? = nil,
        files: [String] = ["report.txt", "report.json", "SHA256SUMS", "plan.yaml", "logs/snapctl.log"],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let manifest = try manifest(run)
        if let pid = manifest.server?.pid {
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
        if let status {
            #expect(manifest.outcome.status == status, sourceLocation: sourceLocation)
        } else {
            #expect(manifest.outcome.status != .running, sourceLocation: sourceLocation)
        }
        #expect(manifest.outcome.exitCode == exitCode, sourceLocation: sourceLocation)
        #expect(manifest.finishedAt != nil, sourceLocation: sourceLocation)
        for name in files {
            #expect(
                FileManager.default.fileExists(atPath: run + "/" + name),
                "\(name) missing",
                sourceLocation: sourceLocation
            )
        }
        try verifyChecksums(run, sourceLocation: sourceLocation)
    }

    /// Recomputes every line of the run's SHA256SUMS, which must cover the manifest and the text report.
    public static func verifyChecksums(_ run: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sums = try String(contentsOfFile: run + "/SHA256SUMS", encoding: .utf8)
        let lines = sums.split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix("  manifest.json") }, sourceLocation: sourceLocation)
        #expect(lines.contains { $0.hasSuffix("  report.txt") }, sourceLocation: sourceLocation)
        for line in lines {
            let digest = String(line.prefix(64))
            let file = String(line.dropFirst(66))
            let data = try #require(FileManager.default.contents(atPath: run + "/" + file), "\(file) is missing")
            #expect(SHA256.hex(data) == digest, "checksum of \(file)", sourceLocation: sourceLocation)
        }
    }
}
