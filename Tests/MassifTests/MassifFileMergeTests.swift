import TestSupport
import Testing

@testable import Massif

@Suite struct MassifFileMergeTests {
    @Test func mergeRenumbersInOrderAndKeepsOnePeak() throws {
        let a = try Fixtures.file("mariadbd-final")
        let b = try Fixtures.file("mariadbd-detailed-snapshot")
        let c = try Fixtures.file("mariadbd-all-snapshots")
        let merged = try MassifFile.merge([b, a, c])
        #expect(merged.header == b.header)
        #expect(merged.snapshots.count == a.snapshots.count + b.snapshots.count + c.snapshots.count)
        #expect(merged.snapshots.map(\.index) == Array(0..<merged.snapshots.count))
        #expect(merged.snapshots[0].tree == b.snapshots[0].tree)
        #expect(merged.snapshots[1].heapBytes == a.snapshots[0].heapBytes)
        #expect(merged.snapshots.filter { $0.kind == .peak }.count == 1)
        let peak = try #require(merged.peakPosition)
        #expect(merged.snapshots[peak].totalBytes == 64_506_440)
        // b ends at 90,772,283; a starts at 0 and is shifted to start there; c is shifted after a.
        #expect(merged.snapshots[1].time == b.snapshots[0].time + a.snapshots[0].time)
        #expect(merged.snapshots.map(\.time) == merged.snapshots.map(\.time).sorted())
        let reparsed = try MassifFile.parse(merged.serialized(), fileName: "merged")
        #expect(reparsed == merged)
    }

    @Test func mergeRefusesMixedTimeUnits() throws {
        let a = try Fixtures.file("mariadbd-snapshot")
        var b = a
        b.header.timeUnit = .bytes
        #expect {
            try MassifFile.merge([a, b], names: ["a.massif", "b.massif"])
        } throws: { error in
            (error as? MassifError)?.description == "b.massif: expected time_unit i like a.massif, got time_unit B"
        }
    }

    @Test func mergeOfNothingIsAnError() {
        #expect(throws: MassifError.self) { try MassifFile.merge([]) }
    }
}
