import ArgumentParser
import Foundation
import Massif
import TestSupport
import Testing

@testable import SnapctlCLI

/// `snapctl massif print|summary|diff` on xtree memory dumps in both formats: real dumps of a small program taken
/// before and after it allocated 4 x 8192 more bytes through filesort -> my_malloc and 10 x 1000 in churn.
@Suite struct MassifXTreeCommandTests {
    static func diff(_ arguments: [String]) throws -> String {
        let command = try #require(try Snapctl.parseAsRoot(["massif", "diff"] + arguments) as? MassifDiffCommand)
        return try command.output()
    }

    @Test(arguments: ["ms", "kcg"])
    func diffOfTotalBytesIsWhatWasAllocatedBetweenTwoDumps(format: String) throws {
        let before = try Fixtures.path("xtree-before.\(format)")
        let after = try Fixtures.path("xtree-after.\(format)")
        let output = try Self.diff([before, after, "--snapshot", "totB"])
        #expect(output.contains("snapshot 2 of \(before) -> snapshot 2 of \(after)"))
        #expect(output.contains("total               26,384           69,152          +42,768"))
        // my_malloc is an allocator wrapper: the growth is filesort's.
        #expect(
            output.contains("+32,768               0 ->         32,768  filesort (xt.c:8) <- main (xt.c:16)  [new]")
        )
        #expect(output.contains("+10,000               0 ->         10,000  churn (xt.c:10) <- main (xt.c:17)  [new]"))
        #expect(!output.contains("my_malloc"))
        let same = try Self.diff([before, after, "--snapshot", "totB:totB"])
        #expect(same == output)
    }

    @Test func diffOfAnXTreeDefaultsToBytesInUse() throws {
        let before = try Fixtures.path("xtree-before.kcg")
        let after = try Fixtures.path("xtree-after.kcg")
        let output = try Self.diff([before, after])
        #expect(output.contains("snapshot 0 of \(before) -> snapshot 0 of \(after)"))
        #expect(output.contains("heap                26,384           49,152          +22,768"))
        #expect(
            output.contains("-10,000          10,000 ->              0  join_cache (xt.c:9) <- main (xt.c:14)  [gone]")
        )
    }

    @Test(arguments: ["ms", "kcg"])
    func printAndSummaryReadBothFormats(format: String) throws {
        let path = try Fixtures.path("xtree-after.\(format)")
        let print = try #require(try Snapctl.parseAsRoot(["massif", "print", path]) as? MassifPrintCommand)
        let text = try print.output()
        #expect(text.contains("Command:    ./xt"))
        #expect(text.contains("(totB : total allocated Bytes)"))
        #expect(text.contains("(totFdBk : total Freed Blocks)"))
        let summary = try #require(
            try Snapctl.parseAsRoot(["massif", "summary", path, "--json"]) as? MassifSummaryCommand
        )
        let json = try JSONSerialization.jsonObject(with: Data(try summary.output().utf8)) as? [String: Any]
        let snapshots = try #require(json?["snapshots"] as? [[String: Any]])
        #expect(snapshots.compactMap { $0["heap_B"] as? Int } == [49152, 8, 69152, 19, 20000, 11])
    }

    @Test func anEventAFileDoesNotHaveIsAClearError() throws {
        let massif = try MassifCommandTests.write(MassifCommandTests.file)
        #expect(throws: (any Error).self) {
            try Snapctl.parseAsRoot(["massif", "diff", massif.path, "--snapshot", "curX"])
        }
        do {
            _ = try Self.diff([massif.path, "--snapshot", "totB"])
            Issue.record("a massif file has no totB tree")
        } catch let error as MassifError {
            #expect(
                error.description
                    == "\(massif.path): expected an xtree dump with event totB, got a massif file without xtree events"
            )
        }
        let broken = try MassifCommandTests.write(
            String(
                decoding: try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("xtree-before.kcg"))),
                as: UTF8.self
            )
            .replacingOccurrences(of: "totals: 26384 5", with: "totals: 26384 6"),
            name: "broken.kcg"
        )
        do {
            _ = try Self.diff([broken.path])
            Issue.record("totals that do not add up must be refused")
        } catch let error as MassifError {
            #expect(error.description.hasPrefix("\(broken.path):44: expected totals equal to the sums of the stacks"))
        }
    }
}
