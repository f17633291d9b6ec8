import Foundation
import RunRecord
import TestSupport
import Testing

@testable import Bundle

/// A replica's run travels as a bundle: the topology (the primary, the steps on it, the replica's state)
/// is in it, and replay starts both servers again, the primary on the loopback address only.
@Suite("a replica's bundle, packed and replayed (integration)", .serialized)
struct ReplicaBundleTests {
    @Test(
        "examples/replica-filter.yaml: packed, verified and replayed with its primary; the replicated step reproduces"
    )
    func replicaRoundTrip() async throws {
        let scratch = try Scratch("rb")
        defer { scratch.cleanup() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let run = scratch.path + "/run"
        let session = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(["session", root + "/examples/replica-filter.yaml", "--out", run])
        }
        #expect(session.status == 0, "\(session.stdout)\n\(session.stderr)")
        let bundle = scratch.path + "/replica.tar.gz"
        let pack = try Programs.snapctl(["bundle", "pack", run, "-o", bundle])
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(try Programs.snapctl(["bundle", "verify", bundle]).status == 0)

        let out = scratch.path + "/replay"
        let replay = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(["replay", bundle, "--out", out])
        }
        #expect(replay.status == 0, "\(replay.stdout)\n\(replay.stderr)")
        // Consent showed the primary and what it may do, and nothing had to be allowed by a flag.
        #expect(replay.stdout.contains("primary (a second server, not profiled): mariadbd or mysqld from PATH"))
        #expect(replay.stdout.contains("primary options from the bundle: --binlog-format=ROW"))
        #expect(replay.stdout.contains("the primary listens on 127.0.0.1 only"))
        #expect(replay.stdout.contains("step 1 'replicated': SQL on the primary, then the replica catches up"))
        let lines = replay.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("*") && $0.contains("replicated") && $0.hasSuffix("reproduced") })

        let manifest = try RunManifest.decode(
            try #require(FileManager.default.contents(atPath: out + "/manifest.json")),
            path: out
        )
        let primary = try #require(manifest.primary)
        #expect(primary.mode == "managed")
        #expect(primary.command?.suffix(2).first == "--bind-address=127.0.0.1")
        #expect(primary.command?.contains { $0.hasPrefix("--secure-file-priv=") } == true)
        #expect(manifest.server?.valgrindCommand.last == "--skip-networking")
        let replicated = try #require(manifest.steps.first { $0.label == "replicated" })
        #expect(replicated.on == "primary")
        #expect(replicated.replica?.caughtUp == true)
        // Nothing is left: no process of the run or the replay, nothing listening on the primary's port.
        #expect(processesMentioning(scratch.path).isEmpty, "\(processesMentioning(scratch.path))")
        if let port = primary.address.split(separator: ":").last.flatMap({ Int($0) }) {
            #expect(!Self.listening(port))
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/primary"))
    }

    /// Whether something accepts TCP connections on 127.0.0.1 at `port`.
    static func listening(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
