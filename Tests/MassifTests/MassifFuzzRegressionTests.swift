import Foundation
import Testing

@testable import Massif

/// Every massif input scripts/fuzz kept (Tests/Fuzz/Regressions/massif), through the same calls as its
/// libFuzzer target: parsed, and when accepted, diffed, summed and merged, without a crash.
@Suite struct MassifFuzzRegressionTests {
    @Test("kept fuzz inputs parse or fail with the file named, and what follows never traps")
    func regressions() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Regressions/massif").path
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(!names.isEmpty, "the folder holds at least its README")
        for name in names {
            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: directory + "/" + name)))
            do {
                let file = try MassifFile.parse(bytes, fileName: name)
                for (before, after) in zip(file.snapshots, file.snapshots.dropFirst()) {
                    _ = SnapshotDiff(before: before, after: after)
                }
                for tree in file.snapshots.compactMap(\.tree) {
                    _ = tree.exclusiveBytes
                    _ = tree.functionTotals()
                }
                _ = try? MassifFile.merge([file, file])
            } catch {
                #expect(error.fileName == name)
            }
        }
    }
}
