import Foundation
import Massif
import RunRecord
import Testing

@testable import Report

@Suite struct RunReportHTMLTests {
    @Test func pageIsSelfContainedWithTheTimelineAndEscapedText() throws {
        var manifest = RunReportTests.manifest(
            steps: [RunReportTests.step(1, "<sort & co>")],
            budgets: .init(maxGrowth: ["<sort & co>": 4096])
        )
        manifest.snapshots = [
            RunReportTests.record(1, step: "<sort & co>", phase: .before, total: 1100),
            RunReportTests.record(2, step: "<sort & co>", phase: .during, total: 20000),
            RunReportTests.record(3, step: "<sort & co>", phase: .after, total: 9000),
        ]
        let report = RunReport.make(
            manifest: manifest,
            snapshots: [1: try RunReportTests.snapshot(sort: 100), 3: try RunReportTests.snapshot(sort: 8000)]
        )
        let html = report.html(manifest: manifest)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg"))
        #expect(html.components(separatedBy: "<circle").count - 1 == 3)
        #expect(html.contains("&lt;sort &amp; co&gt;"))
        #expect(!html.contains("<sort & co>"))
        #expect(html.contains("filesort(THD*)"))
        #expect(html.contains("FAIL max_growth of &lt;sort &amp; co&gt;"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    }

    @Test func aRunWithoutSnapshotsHasNoChart() {
        let manifest = RunReportTests.manifest(steps: [RunReportTests.step(1, "a")], budgets: .init())
        let html = RunReport.make(manifest: manifest, snapshots: [:]).html(manifest: manifest)
        #expect(!html.contains("<svg"))
        #expect(html.contains("no budgets or leak checks in this plan"))
    }
}
