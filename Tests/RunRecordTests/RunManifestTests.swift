import Crypto
import Foundation
import Testing

@testable import RunRecord

@Suite struct RunManifestTests {
    static func sample() -> RunManifest {
        var manifest = RunManifest(
            tool: .init(version: "0.1.0", arguments: ["snapctl", "session", "p.yaml"]),
            plan: .init(name: "p", description: "a plan", source: "p.yaml"),
            startedAt: "2026-11-21T06:00:00Z",
            budgets: .init(maxHeap: 1 << 30, maxGrowth: ["load": 4096]),
            steps: [StepRecord(index: 1, label: "load", kind: .sql, connection: "main", sql: ["SELECT 1"])]
        )
        manifest.steps[0].outcome = .ok
        manifest.steps[0].rows = 1
        manifest.snapshots = [
            SnapshotRecord(
                id: 1,
                step: "load",
                phase: .before,
                file: RunLayout.snapshotFile(id: 1, phase: .before, fileSafeLabel: "load"),
                kind: .detailed,
                time: 0.5,
                massifTime: 1000,
                heapBytes: 100,
                extraBytes: 8,
                stacksBytes: 0,
                timelineIndex: 0,
                counters: ServerCounters(
                    memoryUsed: 5000,
                    processlist: [ProcessMemory(id: 4, user: "root", command: "Sleep", memoryUsed: 70)]
                ),
                triggerLatencyMilliseconds: 4.2
            )
        ]
        manifest.outcome = .init(status: .completed, exitCode: 0)
        return manifest
    }

    @Test func roundTripsThroughJSON() throws {
        let manifest = Self.sample()
        let decoded = try RunManifest.decode(manifest.jsonData(), path: "manifest.json")
        #expect(decoded == manifest)
    }

    @Test func usesTheDocumentedKeys() throws {
        let object = try #require(
            try JSONSerialization.jsonObject(with: Self.sample().jsonData()) as? [String: Any]
        )
        #expect(object["schema"] as? String == "snapctl.run/1")
        let snapshot = try #require((object["snapshots"] as? [[String: Any]])?.first)
        #expect(snapshot["heap_B"] as? Int == 100)
        #expect(snapshot["total_B"] as? Int == 108)
        #expect(snapshot["phase"] as? String == "before")
        #expect(snapshot["label"] as? String == "before-load")
        #expect(snapshot["file"] as? String == "snapshots/0001-before-load.massif")
        #expect(snapshot["trigger_latency_ms"] as? Double == 4.2)
        let counters = try #require(snapshot["counters"] as? [String: Any])
        #expect(counters["memory_used_B"] as? Int == 5000)
        let step = try #require((object["steps"] as? [[String: Any]])?.first)
        #expect(step["outcome"] as? String == "ok")
        #expect(step["sql"] as? [String] == ["SELECT 1"])
    }

    @Test func refusesANewerSchema() {
        let json = Data(#"{"schema": "snapctl.run/2", "steps": "whatever changed"}"#.utf8)
        #expect(throws: RunRecordError.newerSchema(path: "m.json", schema: "snapctl.run/2", supported: "snapctl.run/1"))
        {
            try RunManifest.decode(json, path: "m.json")
        }
        let error = RunRecordError.newerSchema(path: "m.json", schema: "snapctl.run/2", supported: "snapctl.run/1")
        #expect(error.description.contains("upgrade snapctl"))
    }

    @Test(arguments: [#"{"schema": "other/1"}"#, #"{"no": "schema"}"#, #"{"schema": "snapctl.run/x"}"#])
    func refusesUnknownSchemas(_ text: String) {
        #expect(throws: RunRecordError.self) { try RunManifest.decode(Data(text.utf8), path: "m.json") }
        do {
            _ = try RunManifest.decode(Data(text.utf8), path: "m.json")
        } catch {
            guard case .unknownSchema = error else {
                Issue.record("expected unknownSchema, got \(error)")
                return
            }
        }
    }

    @Test func reportsMalformedManifestsWithThePath() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Self.sample().jsonData()) as? [String: Any])
        object.removeValue(forKey: "plan")
        let data = try JSONSerialization.data(withJSONObject: object)
        do {
            _ = try RunManifest.decode(data, path: "RUN/manifest.json")
            Issue.record("a manifest without plan decoded")
        } catch {
            #expect(error.description.contains("RUN/manifest.json"))
            #expect(error.description.contains("missing key 'plan'"))
        }
        #expect(throws: RunRecordError.self) { try RunManifest.decode(Data("not json".utf8), path: "x") }
    }

    @Test func snapshotLabelsSayPhaseStepAndRound() {
        var record = Self.sample().snapshots[0]
        #expect(record.label == "before-load")
        record.phase = .after
        record.round = 3
        #expect(record.label == "after-load-r03")
        record.phase = .snap
        record.round = nil
        #expect(record.label == "load")
        record.phase = .final
        #expect(record.label == "final")
    }

    @Test func namesSnapshotFilesAfterIdPhaseLabelAndRound() {
        #expect(
            RunLayout.snapshotFile(id: 7, phase: .before, fileSafeLabel: "sort") == "snapshots/0007-before-sort.massif"
        )
        #expect(
            RunLayout.snapshotFile(id: 12, phase: .after, fileSafeLabel: "leak", round: 3)
                == "snapshots/0012-after-leak-r03.massif"
        )
        #expect(RunLayout.stepLog(index: 3, fileSafeLabel: "flush") == "logs/step-0003-flush.log")
        #expect(RunLayout.isChecksummed("report.txt"))
        #expect(!RunLayout.isChecksummed("SHA256SUMS"))
        #expect(!RunLayout.isChecksummed("server/data/ibdata1"))
    }
}

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func knownVectors(_ input: String, _ digest: String) {
        #expect(SHA256.hex(Array(input.utf8)) == digest)
    }

    @Test func chunkedInputGivesTheSameDigest() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 7, 100_000] where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            hasher.update(data: bytes[offset..<end])
            offset = end
        }
        #expect(hasher.hexDigest() == SHA256.hex(bytes))
    }

    @Test func checksumLinesAreSortedLikeSha256sum() {
        let text = Checksums.text([(path: "b", digest: "22"), (path: "a", digest: "11")])
        #expect(text == "11  a\n22  b\n")
    }
}
