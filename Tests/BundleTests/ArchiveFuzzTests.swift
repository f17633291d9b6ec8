import Foundation
import TestSupport
import Testing

@testable import Bundle

/// The short run of scripts/fuzz inside the suite: deterministic mutations of real archives through the
/// same entry points as the libFuzzer targets (Tests/Fuzz), and every input scripts/fuzz ever kept.
@Suite struct ArchiveFuzzTests {
    static let inputCount = 4000

    /// A snapctl bundle's tar and one written by tar(1) in pax format with a long name and a link.
    static func seeds() throws -> [[UInt8]] {
        let ours = TarWriter.archive([
            .directory("top"),
            .file("top/manifest.json", Array(#"{"schema":"snapctl.run/1"}"#.utf8)),
            .file("top/logs/" + String(repeating: "long-name-", count: 15) + ".log", Array("pax path\n".utf8)),
            TarEntry(path: "top/link", kind: .symlink(target: "manifest.json")),
            .file("top/snapshots/0001.massif", [UInt8](repeating: 0x41, count: 1500)),
        ])
        let scratch = try Scratch("fuzzseed")
        defer { scratch.cleanup() }
        try FileManager.default.createDirectory(atPath: scratch.path + "/t/top/d", withIntermediateDirectories: true)
        try scratch.write("t/top/d/" + String(repeating: "n", count: 130), "x\n")
        #expect(
            try Programs.run(
                "/bin/tar",
                ["--format=gnu", "-cf", scratch.path + "/g.tar", "-C", scratch.path + "/t", "top"]
            ).status == 0
        )
        let gnu = [UInt8](try #require(FileManager.default.contents(atPath: scratch.path + "/g.tar")))
        return [ours, gnu]
    }

    /// Flips, overwrites with extreme digits, inserts or cuts, a few times.
    static func mutate(_ seed: [UInt8], _ random: inout UInt64) -> [UInt8] {
        func next() -> UInt64 {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var bytes = seed
        for _ in 0..<(1 + Int(next() % 4)) where !bytes.isEmpty {
            let at = Int(next() % UInt64(bytes.count))
            switch next() % 6 {
            case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (next() % 8))
            case 1: bytes[at] = [0x80, 0xff, 0x37, 0x30, 0x20, 0x00, 0x39][Int(next() % 7)]
            case 2:
                let digits = Array("77777777777".utf8)
                for (offset, digit) in digits.enumerated() where at + offset < bytes.count {
                    bytes[at + offset] = digit
                }
            case 3: bytes.insert(contentsOf: Array("99999999999999999999 size=1\n".utf8), at: at)
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + Int(next() % 700)))
            default: bytes[at] = UInt8(truncatingIfNeeded: next())
            }
        }
        return bytes
    }

    static let limits = ArchiveLimits(totalBytes: 1 << 20, entries: 1000, entryBytes: 1 << 20)

    /// What the tar target of scripts/fuzz does.
    static func tarTarget(_ bytes: [UInt8]) {
        do {
            _ = try BundleArchive.check(TarReader.entries(bytes, limits: limits))
        } catch {
            if case .truncatedTar(let offset, _, _, _) = error { #expect(offset <= bytes.count) }
            #expect(!error.description.isEmpty)
        }
    }

    /// What the gzip target of scripts/fuzz does.
    static func gzipTarget(_ bytes: [UInt8]) {
        _ = try? Gzip.decompress(bytes, limit: 4 << 20)
        var stream = TarStream(GzipSource(MemorySource(bytes)), limits: limits)
        while let entry = try? stream.next() {
            if case .file = entry.kind {
                while let chunk = try? stream.readData(maximum: 4096), !chunk.isEmpty {}
            }
        }
    }

    @Test("mutated tar streams are read or refused with an offset, never a crash")
    func tar() throws {
        let seeds = try Self.seeds()
        var random: UInt64 = 0x7A12
        for round in 0..<Self.inputCount { Self.tarTarget(Self.mutate(seeds[round % seeds.count], &random)) }
    }

    @Test("mutated gzip streams (compressed bytes and the tar inside) never crash")
    func gzip() throws {
        let seeds = try Self.seeds()
        let compressed = seeds.map { Gzip.compress($0) }
        var random: UInt64 = 0x62A1
        for round in 0..<Self.inputCount {
            let seed = compressed[round % compressed.count]
            // Half the time the tar inside is mutated and compressed again, so the tar reader sees it too.
            let input =
                round % 2 == 0
                ? Self.mutate(seed, &random) : Gzip.compress(Self.mutate(seeds[round % seeds.count], &random))
            Self.gzipTarget(input)
        }
    }

    /// Tests/Fuzz/Regressions/<target>: every input that once crashed.
    static func regressions(_ target: String) throws -> [[UInt8]] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Regressions/" + target).path
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        return try names.map { [UInt8](try #require(FileManager.default.contents(atPath: directory + "/" + $0))) }
    }

    @Test("every kept crashing input of scripts/fuzz is read or refused")
    func regressionFixtures() throws {
        for input in try Self.regressions("tar") { Self.tarTarget(input) }
        for input in try Self.regressions("gzip") { Self.gzipTarget(input) }
        #expect(try !Self.regressions("tar").isEmpty, "the folder holds at least its README")
    }
}
