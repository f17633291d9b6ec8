import Foundation
import RunRecord
import Session
import TestSupport
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The HTML report of a real run (real valgrind, vgdb and mariadbd), opened in Debian's headless Chromium:
/// the screenshot is not blank and shows the chart, every step label is in the DOM after the page's script
/// ran, and the page wrote nothing to the console (no error, no refused fetch, no exception).
@Suite("report.html rendered by headless Chromium (integration)", .serialized)
struct ReportHTMLRenderingTests {
    /// A small run with every part of the page: growth and shrinkage, a light `during` snapshot, a snap
    /// step, a repeated step (leak check), budgets, counters, and a label and SQL that need escaping.
    static let plan = """
        version: 1
        name: html-render
        description: A MEMORY table filled, looked at, queried in rounds and dropped
        server:
          options: [--max-heap-table-size=64M]
          init_sql: [CREATE DATABASE app]
        massif:
          options: [--threshold=0.5]
        observe: [memory_used, processlist]
        budget: {max_heap: 1GiB}
        connections:
          - {name: main, database: app}
        steps:
          - label: create
            sql: CREATE TABLE m (id INT PRIMARY KEY, v CHAR(200)) ENGINE=MEMORY
          - label: fill <m> & "co"
            sql: INSERT INTO m SELECT seq, REPEAT('<x>&', 50) FROM seq_1_to_20000
            snapshots: {during: 20ms}
            budget: {max_growth: 64MiB}
          - snap: full
          - label: count
            repeat: 3
            sql: SELECT COUNT(*) FROM m WHERE v LIKE '%<x>%'
          - label: drop
            sql: DROP TABLE m
        """

    static let fillLabel = "fill <m> & \"co\""

    @Test("a real run's report.html: a screenshot with content, every step label in the DOM, no console output")
    func rendersARealRun() async throws {
        let chromium = try #require(
            Chromium.locate(),
            "chromium is not installed: run scripts/setup (it installs Debian's chromium package)"
        )
        let scratch = try Scratch("html")
        defer { scratch.cleanup() }
        let planFile = try scratch.write("html.yaml", Self.plan)
        let result = try await SessionTestSupport.run(planFile: planFile, out: scratch.run)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try SessionTestSupport.expectFinalised(result)
        let page = scratch.run + "/" + RunLayout.reportHTML
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains(">fill &lt;m&gt; &amp; &quot;co&quot;</a>"))
        // `snapctl report RUN --html` rebuilds the same page from the run directory alone.
        let rebuilt = try ReportCommand.load(scratch.run)
        #expect(rebuilt.problems.isEmpty)
        #expect(rebuilt.html(rebuilt.report()) == html)

        // The screenshot: decoded, and not blank.
        let shotFile = scratch.path + "/report.png"
        let shot = try await chromium.run(
            ["--screenshot=\(shotFile)", "--window-size=1280,2400", "file://" + page],
            scratch: scratch.path
        )
        #expect(shot.status == 0, "chromium exited \(shot.status): \(shot.stderrTail)")
        #expect(shot.console.isEmpty, "console output while taking the screenshot: \(shot.console)")
        let png = try #require(FileManager.default.contents(atPath: shotFile), "no screenshot at \(shotFile)")
        let image = try PNGImage(bytes: [UInt8](png))
        #expect(image.width == 1280 && image.height == 2400)
        let stats = ScreenshotStats(image)
        #expect(stats.inkFraction > 0.03, "only \(stats.inkFraction * 100)% of the pixels are not white")
        #expect(stats.distinctColours > 100, "only \(stats.distinctColours) colours")
        // The stacked heap area of the timeline (blue) fills a good part of the first screen.
        #expect(stats.bluePixels > 50_000, "only \(stats.bluePixels) blue pixels: the timeline did not draw")
        // The headline at the top is drawn, not just the chart.
        #expect(stats.inkInTopRows > 1000, "the top 160 rows are blank")

        // The DOM after the script ran: the marker it sets, and every step label as text.
        let dom = try await chromium.run(["--dump-dom", "file://" + page], scratch: scratch.path)
        #expect(dom.status == 0, "chromium exited \(dom.status): \(dom.stderrTail)")
        #expect(dom.console.isEmpty, "console output while loading the page: \(dom.console)")
        #expect(dom.stdout.contains("data-script=\"ready\""), "the page's script did not run to its end")
        #expect(dom.stdout.contains("<button type=\"button\" class=\"sort\">"), "the script did not add sorting")
        for step in result.manifest.steps {
            // Serialised text escapes &, < and >; the label must be text, not markup.
            let text = step.label.replacingOccurrences(of: "&", with: "&amp;")
                .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            #expect(dom.stdout.contains(">\(text)</a>"), "step \(step.label) missing from the step table")
            #expect(dom.stdout.contains("[\(step.index)] \(text)</h3>"), "step \(step.label) has no section")
        }
        #expect(!dom.stdout.contains("<m>"), "a label became markup")
        #expect(dom.stdout.contains("class=\"tree\" data-compared"))

        // The fill step's flame graph: inline SVG frames with titles, in its section, drawn in warm colours,
        // the same with scripts off.
        let fillIndex = try #require(result.manifest.steps.first { $0.label == Self.fillLabel }?.index)
        let section = try #require(dom.stdout.range(of: "id=\"step-\(fillIndex)\""))
        let sectionEnd = dom.stdout.range(of: "id=\"step-\(fillIndex + 1)\"")?.lowerBound ?? dom.stdout.endIndex
        let fillSection = String(dom.stdout[section.upperBound..<sectionEnd])
        #expect(fillSection.contains("<svg class=\"flame\""), "no flame graph in the fill step's section")
        #expect(fillSection.components(separatedBy: "<rect ").count > 4, "the flame graph has too few frames")
        #expect(fillSection.contains("<title>"), "flame frames have no titles")
        // Scripts off: the same page without its script element (Chromium's headless modes need scripts
        // to dump or shoot a page, so they cannot be switched off there), shot tall enough for every step.
        let script = try #require(html.range(of: "<script>"))
        let scriptEnd = try #require(html.range(of: "</script>", range: script.upperBound..<html.endIndex))
        let scriptless = scratch.path + "/scriptless.html"
        try (String(html[..<script.lowerBound]) + String(html[scriptEnd.upperBound...]))
            .write(toFile: scriptless, atomically: true, encoding: .utf8)
        let tallShot = scratch.path + "/report-tall.png"
        let tall = try await chromium.run(
            ["--screenshot=\(tallShot)", "--window-size=1280,9000", "file://" + scriptless],
            scratch: scratch.path
        )
        #expect(tall.status == 0 && tall.console.isEmpty, "\(tall.console) \(tall.stderrTail)")
        let tallImage = try PNGImage(bytes: [UInt8](try #require(FileManager.default.contents(atPath: tallShot))))
        let flamePixels = ScreenshotStats(tallImage).flamePixels
        #expect(flamePixels > 3000, "only \(flamePixels) flame-coloured pixels: the flame graph did not draw")
        #expect(
            Self.processes(mentioning: scratch.path).isEmpty,
            "left running: \(Self.processes(mentioning: scratch.path))"
        )
    }

    @Test("the console check catches a page that throws, and a page that tries to fetch")
    func consoleCheckCatchesErrors() async throws {
        let chromium = try #require(
            Chromium.locate(),
            "chromium is not installed: run scripts/setup (it installs Debian's chromium package)"
        )
        let scratch = try Scratch("htmlbad")
        defer { scratch.cleanup() }
        let page = try scratch.write(
            "bad.html",
            """
            <!DOCTYPE html><html><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
            </head><body><p>bad</p><img src="http://192.0.2.1/x.png" alt="">
            <script>null.property;</script></body></html>
            """
        )
        let dom = try await chromium.run(["--dump-dom", "file://" + page], scratch: scratch.path)
        #expect(dom.console.contains { $0.contains("Uncaught TypeError") }, "\(dom.console)")
        #expect(dom.console.contains { $0.contains("Content Security Policy") }, "\(dom.console)")
        #expect(!dom.stdout.contains("data-script=\"ready\""))
    }

    static func processes(mentioning text: String) -> [String] { processesMentioning(text) }
}

/// Pixel figures of a screenshot.
struct ScreenshotStats {
    /// The share of pixels that are not (nearly) white.
    var inkFraction: Double
    /// Distinct colours, counted up to 5000.
    var distinctColours: Int
    /// Pixels clearly more blue than red (the heap area and the markers of the timeline).
    var bluePixels: Int
    /// Non-white pixels in the top 160 rows (the title and the headline cards).
    var inkInTopRows: Int
    /// Warm orange and yellow pixels: the frames of the flame graphs.
    var flamePixels: Int

    init(_ image: PNGImage) {
        var ink = 0
        var colours: Set<UInt32> = []
        var blue = 0
        var top = 0
        var flame = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (red, green, blueValue) = image.rgb(x: x, y: y)
                let isInk = red < 235 || green < 235 || blueValue < 235
                if isInk {
                    ink += 1
                    if y < 160 { top += 1 }
                }
                if Int(blueValue) > Int(red) + 30 && blueValue > 100 { blue += 1 }
                if red > 220 && green > 120 && green < 215 && blueValue > 70 && blueValue < 135 { flame += 1 }
                if colours.count < 5000 { colours.insert(UInt32(red) << 16 | UInt32(green) << 8 | UInt32(blueValue)) }
            }
        }
        inkFraction = Double(ink) / Double(max(1, image.width * image.height))
        distinctColours = colours.count
        bluePixels = blue
        inkInTopRows = top
        flamePixels = flame
    }
}

/// Headless Chromium as the tests run it: no sandbox (tests run as root), no GPU, a private profile in the
/// test's scratch directory, console messages on stderr.
struct Chromium {
    let path: String

    /// What one run printed.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The page's console messages (`INFO:CONSOLE...` lines): errors, refused loads, uncaught
        /// exceptions. The report never writes to the console, so any line is a failure.
        var console: [String] { stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init) }
        var stderrTail: String { String(stderr.suffix(2000)) }
    }

    /// `chromium` from Debian's package, or on PATH; nil when there is none.
    static func locate() -> Chromium? {
        var candidates = ["/usr/bin/chromium"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates += ["chromium", "chromium-browser"].map { "\(directory)/\($0)" }
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map(Chromium.init)
    }

    /// Runs chromium with `arguments` after the headless flags and waits for it (at most two minutes, then
    /// it is killed and the run fails).
    func run(_ arguments: [String], scratch: String) async throws -> Output {
        let outFile = scratch + "/chromium-\(UUID().uuidString.prefix(6)).out"
        let errFile = outFile.replacingOccurrences(of: ".out", with: ".err")
        _ = FileManager.default.createFile(atPath: outFile, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(scratch)/chromium-profile",
                "--enable-logging=stderr", "--v=0", "--no-first-run", "--disable-extensions",
            ] + arguments
        process.standardOutput = FileHandle(forWritingAtPath: outFile)
        process.standardError = FileHandle(forWritingAtPath: errFile)
        let finished = TestFlag()
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in
                finished.set()
                continuation.resume(returning: process.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let pid = process.processIdentifier
            Thread.detachNewThread {
                // A watchdog, not a timing assertion: a hung browser must not hang the suite.
                for _ in 0..<1200 where !finished.isSet { usleep(100_000) }
                if !finished.isSet { kill(pid, SIGKILL) }
            }
        }
        let stdout = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        return Output(status: status, stdout: stdout, stderr: stderr)
    }
}
