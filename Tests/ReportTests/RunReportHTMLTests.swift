import Foundation
import Massif
import RunRecord
import Testing

@testable import Report

/// The HTML report of a hand-made run whose labels, SQL, function names, messages and counters are hostile:
/// everything escaped, every part of the page present, nothing fetched, readable without the script.
@Suite struct RunReportHTMLTests {
    typealias Node = HTMLFixtures.Node

    static let scriptLabel = "<script>alert(\"x\")</script>"
    static let ampersandLabel = "a&b 'quoted'"
    static let snapLabel = "snap\"quote'"
    static let hostileSQL = "SELECT '</pre><script>alert(1)</script>' & \"quoted\" FROM t"
    static let templateFunction = "operator<<(std::ostream&, Foo<int> const&)"

    /// A run: a growing step with hostile text, a step with a light during snapshot and a broken
    /// max_growth, a snap step, a repeated step, a max_heap budget, counters, warnings.
    static func hostileRun() throws -> (RunManifest, [Int: Snapshot]) {
        var steps: [StepRecord] = []
        var grow = StepRecord(index: 1, label: scriptLabel, kind: .sql, connection: "main<1>", sql: [hostileSQL])
        grow.outcome = .ok
        grow.rounds = 1
        grow.duration = 0.2
        steps.append(grow)
        var during = StepRecord(index: 2, label: ampersandLabel, kind: .sql, connection: "main", sql: ["SELECT 1"])
        during.outcome = .failed
        during.rounds = 1
        during.error = StepError(
            code: 1146,
            message: "Table '<t>' doesn't exist",
            statement: "SELECT 1",
            expected: false
        )
        steps.append(during)
        var snap = StepRecord(index: 3, label: snapLabel, kind: .snap)
        snap.outcome = .ok
        steps.append(snap)
        var loop = StepRecord(index: 4, label: "loop", kind: .sql, connection: "main", sql: ["DO 1"], repeat: 3)
        loop.outcome = .ok
        loop.rounds = 3
        steps.append(loop)

        var manifest = RunManifest(
            tool: .init(version: "test"),
            plan: .init(name: "hostile <plan>", description: "a \"plan\" & <b>more</b>", source: "p.yaml"),
            startedAt: "2026-11-21T06:00:00Z",
            budgets: .init(maxHeap: 64 * 1024 * 1024, maxGrowth: [ampersandLabel: 1000], leakMinGrowth: 1024),
            steps: steps
        )
        manifest.outcome = .init(status: .stepFailed, exitCode: 4, message: "step <2> failed & stopped")
        manifest.warnings = ["a <b>warning</b> & more"]
        manifest.server = .init(
            mode: "managed",
            flavor: "mariadb",
            version: "10.11 <x>",
            pid: 42,
            valgrindCommand: ["valgrind", "--tool=massif", "<arg>"],
            memoryVariables: ["sort_buffer_size": 2_097_152, "max_connections": 151],
            envelope: .init(globalBuffers: 300 << 20, perSession: 28 << 20, maxConnections: 151, total: 4_528 << 20)
        )
        let counters = ServerCounters(
            memoryUsed: 300 << 20,
            processlist: [ProcessMemory(id: 4, user: "<evil>", command: "Query", memoryUsed: 150_000)],
            globalStatus: ["Com_<select>": 1]
        )
        var later = counters
        later.memoryUsed = 310 << 20
        later.globalStatus = ["Com_<select>": 5]

        let base = [Node(20_000_000, "init_pagecache"), Node(3_000_000, "Query_cache::init_cache()")]
        let grown =
            base + [
                Node(
                    6_000_000,
                    "my_malloc",
                    [
                        Node(
                            6_000_000,
                            templateFunction,
                            [
                                Node(
                                    6_000_000,
                                    "mysql_execute_command(THD*, bool)",
                                    [Node(4_000_000, "dispatch_command"), Node(2_000_000, "bootstrap")]
                                )
                            ]
                        )
                    ]
                )
            ]
        let loopTree = { (extra: Int) in
            base + [Node(6_000_000 + extra, templateFunction, [Node(6_000_000 + extra, "do_command")])]
        }
        manifest.snapshots = [
            HTMLFixtures.record(1, step: scriptLabel, phase: .before, heap: 23_000_000, counters: counters),
            HTMLFixtures.record(2, step: scriptLabel, phase: .after, heap: 29_000_000, counters: later),
            HTMLFixtures.record(3, step: ampersandLabel, phase: .before, heap: 29_000_000, counters: later),
            HTMLFixtures.record(4, step: ampersandLabel, phase: .during, heap: 35_000_000, light: true),
            HTMLFixtures.record(5, step: ampersandLabel, phase: .after, heap: 29_500_000, counters: later),
            HTMLFixtures.record(6, step: snapLabel, phase: .snap, heap: 29_500_000, counters: later),
            HTMLFixtures.record(7, step: "loop", phase: .before, heap: 29_000_000),
            HTMLFixtures.record(8, step: "loop", phase: .after, round: 1, heap: 29_000_000),
            HTMLFixtures.record(9, step: "loop", phase: .after, round: 2, heap: 29_100_000),
            HTMLFixtures.record(10, step: "loop", phase: .after, round: 3, heap: 29_200_000),
            HTMLFixtures.record(11, step: "end", phase: .final, heap: 29_200_000),
        ]
        let snapshots: [Int: Snapshot] = [
            1: try HTMLFixtures.snapshot(base),
            2: try HTMLFixtures.snapshot(grown),
            3: try HTMLFixtures.snapshot(grown),
            5: try HTMLFixtures.snapshot(grown + [Node(500_000, "Item_func_concat::val_str(String*)")]),
            6: try HTMLFixtures.snapshot(grown + [Node(500_000, "Item_func_concat::val_str(String*)")]),
            7: try HTMLFixtures.snapshot(loopTree(0)),
            8: try HTMLFixtures.snapshot(loopTree(0)),
            10: try HTMLFixtures.snapshot(loopTree(200_000)),
        ]
        return (manifest, snapshots)
    }

    static func page() throws -> (String, RunReport, RunManifest) {
        let (manifest, snapshots) = try hostileRun()
        let report = RunReport.make(manifest: manifest, snapshots: snapshots)
        return (report.html(manifest: manifest, snapshots: snapshots), report, manifest)
    }

    static func occurrences(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test func hostileTextIsEscapedEverywhere() throws {
        let (html, _, _) = try Self.page()
        // Only the page's own script element, and no user text that opens a tag.
        #expect(Self.occurrences("<script", in: html) == 1)
        #expect(Self.occurrences("</script>", in: html) == 1)
        for raw in [
            Self.scriptLabel, Self.hostileSQL, "<evil>", "<b>warning</b>", "<b>more</b>", "<t>", "<2>", "<plan>",
            "<x>", "<arg>", "main<1>", "Com_<select>", "Foo<int>", "snap\"quote",
        ] {
            #expect(!html.contains(raw), "unescaped: \(raw)")
        }
        for escaped in [
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;", "a&amp;b &#39;quoted&#39;", "snap&quot;quote&#39;",
            "SELECT &#39;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39; &amp; &quot;quoted&quot; FROM t",
            "operator&lt;&lt;(std::ostream&amp;, Foo&lt;int&gt; const&amp;)", "Com_&lt;select&gt;", "main&lt;1&gt;",
            "a &lt;b&gt;warning&lt;/b&gt; &amp; more", "step &lt;2&gt; failed &amp; stopped",
            "Table &#39;&lt;t&gt;&#39; doesn&#39;t exist", "snapctl report: hostile &lt;plan&gt;",
        ] {
            #expect(html.contains(escaped), "missing: \(escaped)")
        }
    }

    @Test func everyStepHasItsBandRowAndSection() throws {
        let (html, report, manifest) = try Self.page()
        for step in report.steps {
            let label = HTML.escape(step.label)
            #expect(html.contains("<a href=\"#step-\(step.index)\">\(label)</a>"), "table row of \(step.label)")
            #expect(html.contains("<section class=\"step"), "sections")
            #expect(html.contains("id=\"step-\(step.index)\">"), "section of \(step.label)")
            #expect(html.contains("<h3>[\(step.index)] \(label)</h3>"), "heading of \(step.label)")
            #expect(html.contains("<title>[\(step.index)] \(label)"), "band of \(step.label)")
            #expect(html.contains("class=\"band\" data-step=\"\(step.index)\""), "band link of \(step.label)")
        }
        // One band per step, one marker per snapshot, the during snapshot drawn light.
        #expect(Self.occurrences("class=\"band\"", in: html) == report.steps.count)
        #expect(Self.occurrences("<circle", in: html) == manifest.snapshots.count)
        #expect(Self.occurrences("class=\"marker light\"", in: html) == 1)
        // The failed step's band and row are marked.
        #expect(html.contains("<rect class=\"band-alarm\""))
        #expect(html.contains("<tr class=\"alarm\">"))
        // Heap and extra stacked (extra is zero here, so only heap is drawn), the outline on top.
        #expect(html.contains("<polygon class=\"area-heap\""))
        #expect(html.contains("<polyline class=\"total-line\""))
    }

    @Test func budgetsAreLinesAndVerdicts() throws {
        let (html, report, _) = try Self.page()
        // max_heap (64 MiB, kept) across the chart; max_growth of the second step (1000 B, broken) in its band.
        #expect(html.contains("<g class=\"budget kept\">"))
        #expect(html.contains("<title>max_heap: 64.0 MiB (kept)</title>"))
        #expect(html.contains("<g class=\"budget broken\">"))
        #expect(html.contains("<title>max_growth of a&amp;b &#39;quoted&#39;: "))
        #expect(report.budgets.contains { !$0.passed })
        #expect(html.contains("id=\"verdicts\""))
        #expect(html.contains("<span class=\"badge bad\">FAIL</span>"))
        // The leak check of the repeated step: its rounds as columns and the threshold line.
        #expect(html.contains("Leak check over 3 rounds"))
        #expect(Self.occurrences("title=\"round ", in: html) == 3)
        #expect(html.contains("class=\"threshold\""))
    }

    @Test func stepsHaveSiteBarsAndExpandableTrees() throws {
        let (html, _, _) = try Self.page()
        // The growing site, wrappers folded: the template function is named, its caller under it.
        #expect(html.contains("<div class=\"sites\">"))
        #expect(html.contains("operator&lt;&lt;(std::ostream&amp;, Foo&lt;int&gt; const&amp;)</div>"))
        #expect(html.contains("← mysql_execute_command(THD*, bool)"))
        // Trees as nested details, the growth open, with a change column when compared.
        #expect(html.contains("<div class=\"tree\" data-compared>"))
        #expect(html.contains("<details open><summary class=\"row\">"))
        #expect(html.contains("+5.7 MiB"))
        // The snap step's tree is compared with the snapshot before it (the previous step's after).
        #expect(html.contains("Allocation tree at " + HTML.escape(Self.snapLabel) + ", change since "))
    }

    @Test func aLongRunKeepsTheTreesOfTheStepsThatMatterMost() throws {
        let (manifest, snapshots) = try Self.hostileRun()
        let report = RunReport.make(manifest: manifest, snapshots: snapshots)
        let html = report.html(manifest: manifest, snapshots: snapshots, options: HTMLOptions(treeSteps: 1))
        // The failed step (over its budget too) keeps its tree; the others say why theirs is left out.
        #expect(Self.occurrences("<div class=\"tree\"", in: html) == 1)
        #expect(html.contains("Allocation tree at after-" + HTML.escape(Self.ampersandLabel)))
        #expect(Self.occurrences("Allocation tree left out", in: html) == 3)
        // The default draws every tree.
        let all = report.html(manifest: manifest, snapshots: snapshots)
        #expect(Self.occurrences("<div class=\"tree\"", in: all) == 4)
        #expect(!all.contains("Allocation tree left out"))
    }

    @Test func headlineCountersAndEnvelope() throws {
        let (html, _, _) = try Self.page()
        #expect(html.contains("<div class=\"card bad\" id=\"outcome\">"))
        #expect(html.contains("step failed <span class=\"muted\">exit 4</span>"))
        #expect(html.contains("<div class=\"k\">Grew most</div>"))
        #expect(html.contains("id=\"failures\""))
        #expect(html.contains("id=\"warnings\""))
        #expect(html.contains("id=\"counters\""))
        #expect(html.contains("300.0 MiB"))
        #expect(html.contains("+10.0 MiB"))
        #expect(html.contains("Com_&lt;select&gt;"))
        #expect(html.contains("id=\"envelope\""))
        #expect(html.contains("<b>4.4 GiB</b>"))
        #expect(html.contains("151 connections × 28.0 MiB per session"))
    }

    @Test func nothingIsFetched() throws {
        let (html, _, _) = try Self.page()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"))
        // The one http URL is the SVG namespace, which is a name, not a fetch.
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("http:") && !withoutNamespace.contains("https:"))
        #expect(!withoutNamespace.contains("=\"//") && !withoutNamespace.contains("ftp:"))
        #expect(!html.contains("<script src"))
        #expect(!html.contains(" src="))
        #expect(!html.contains("<link rel=\"stylesheet\""))
        #expect(!html.contains("<link rel=stylesheet"))
        #expect(!html.contains("@import"))
        #expect(!html.contains("url("))
        #expect(!html.contains("<iframe") && !html.contains("<img") && !html.contains("<object"))
        // Every link is to a part of the page, or the empty icon (so that the browser asks for no favicon).
        let hrefs = html.components(separatedBy: "href=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(!hrefs.isEmpty)
        for href in hrefs { #expect(href.hasPrefix("#") || href == "data:,", "href \(href)") }
    }

    @Test func readableWithoutTheScript() throws {
        let (html, report, _) = try Self.page()
        let start = try #require(html.range(of: "<script>"))
        let end = try #require(html.range(of: "</script>"))
        let page = String(html[..<start.lowerBound]) + String(html[end.upperBound...])
        let script = String(html[start.upperBound..<end.lowerBound])
        // Every figure is in the static page; the script carries no data of the run.
        for step in report.steps {
            #expect(page.contains(HTML.escape(step.label)))
            #expect(!script.contains(step.label) && !script.contains(HTML.escape(step.label)))
        }
        for part in ["<svg", "<table class=\"sortable\"", "class=\"tree\"", "<details", "id=\"counters\""] {
            #expect(page.contains(part))
        }
        // The controls the script uses are created by it: the static page has no buttons or inputs.
        #expect(!page.contains("<button") && !page.contains("<input"))
        #expect(script.contains("setAttribute(\"data-script\", \"ready\")"))
    }

    /// Every element opened is closed in order (void elements and `/>` aside): hostile text broke nothing.
    @Test func elementsAreBalanced() throws {
        let (html, _, _) = try Self.page()
        let void: Set<String> = ["meta", "link", "br", "input", "img", "hr", "!doctype"]
        var stack: [String] = []
        var problems: [String] = []
        var rest = html[...]
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            guard let close = rest.firstIndex(of: ">") else {
                problems.append("unterminated tag")
                break
            }
            let tag = rest[..<close]
            rest = rest[rest.index(after: close)...]
            if tag.hasPrefix("/") {
                let name = tag.dropFirst().lowercased()
                if stack.last == name {
                    stack.removeLast()
                } else {
                    problems.append("</\(name)> closes \(stack.last ?? "nothing")")
                }
                continue
            }
            let name = String(tag.prefix { $0 != " " && $0 != "\n" && $0 != "/" }).lowercased()
            if void.contains(name) || tag.hasSuffix("/") { continue }
            if name == "script" || name == "style" {
                // Raw text: skip to the end tag.
                guard let end = rest.range(of: "</\(name)>") else {
                    problems.append("unclosed \(name)")
                    break
                }
                rest = rest[end.upperBound...]
                continue
            }
            stack.append(name)
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(stack.isEmpty, "left open: \(stack.suffix(5))")
    }

    @Test func aRunWithoutSnapshotsSaysSo() {
        let manifest = RunReportTests.manifest(steps: [RunReportTests.step(1, "a")], budgets: .init())
        let html = RunReport.make(manifest: manifest, snapshots: [:]).html(manifest: manifest)
        #expect(!html.contains("<svg"))
        #expect(html.contains("No snapshot was taken"))
        #expect(html.contains("no budgets or leak checks in this plan"))
        #expect(html.contains("No counters were read"))
        #expect(html.contains("id=\"step-1\""))
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("<a href=\"x\">", "&lt;a href=&quot;x&quot;&gt;"),
        ("Tom & Jerry's", "Tom &amp; Jerry&#39;s"),
        ("&amp;", "&amp;amp;"),
        ("tab\tnew\nline", "tab\tnew\nline"),
        ("nul\u{0}bell\u{7}", "nul\u{FFFD}bell\u{FFFD}"),
        ("ünïcødé → ✓", "ünïcødé → ✓"),
    ])
    func escaping(input: String, expected: String) {
        #expect(HTML.escape(input) == expected)
    }

    @Test func numbersForCoordinates() {
        #expect(HTML.number(12.0) == "12")
        #expect(HTML.number(12.34) == "12.3")
        #expect(HTML.number(-0.01) == "0")
        #expect(HTML.number(.nan) == "0")
        #expect(HTML.percent(5, of: 10) == "50%")
        #expect(HTML.percent(50, of: 10) == "100%")
        #expect(HTML.percent(1, of: 0) == "0%")
    }
}
