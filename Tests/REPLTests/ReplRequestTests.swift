import Foundation
import Plan
import Testing

@testable import REPL

@Suite("REPL command lines: arguments and their errors")
struct ReplRequestTests {
    static let accepted: [(String, ReplRequest)] = [
        ("snap before-query", .snap(label: "before-query", light: false)),
        ("snap --light quick", .snap(label: "quick", light: true)),
        ("snap quick --light", .snap(label: "quick", light: true)),
        ("diff a b", .diff(before: "a", after: "b", top: 10)),
        ("diff a b --top 3", .diff(before: "a", after: "b", top: 3)),
        ("diff --top=25 a b", .diff(before: "a", after: "b", top: 25)),
        ("diff --allocated a b", .diffAllocated(before: "a", after: "b", top: 10)),
        ("diff a b --allocated --top 2", .diffAllocated(before: "a", after: "b", top: 2)),
        ("peak", .peak),
        ("top", .top(label: nil, count: 10)),
        ("top after-load --top 5", .top(label: "after-load", count: 5)),
        ("snaps", .snaps),
        ("counters", .counters),
        ("connect other", .connect(name: "other", user: nil, database: nil)),
        ("connect other app@shop", .connect(name: "other", user: "app", database: "shop")),
        ("connect other app@", .connect(name: "other", user: "app", database: nil)),
        ("connect other @shop", .connect(name: "other", user: nil, database: "shop")),
        ("connect other app", .connect(name: "other", user: "app", database: nil)),
        ("use other", .use(name: "other")),
        ("step load", .step(label: "load")),
        ("monitor v.info stats", .monitor(command: "v.info stats")),
        ("monitor   detailed_snapshot /tmp/a b", .monitor(command: "detailed_snapshot /tmp/a b")),
        ("report", .report),
        ("help", .help(topic: nil)),
        ("help diff", .help(topic: "diff")),
        ("save-plan out.yaml", .savePlan(path: "out.yaml")),
        ("save-plan 'my plan.yaml'", .savePlan(path: "my plan.yaml")),
        ("quit", .quit),
        ("exit", .quit),
        ("Quit;", .quit),
    ]

    @Test(arguments: accepted)
    func parses(line: String, request: ReplRequest) throws {
        #expect(try ReplRequest.parse(line).get() == request)
    }

    static let refused: [(String, String)] = [
        ("snap", "snap: a label is needed; usage: snap [--light] LABEL"),
        ("snap a b", "snap: one label only; usage: snap [--light] LABEL"),
        ("snap --ligth a", "snap: unknown option '--ligth'; did you mean '--light'?; usage: snap [--light] LABEL"),
        ("snap --heavy a", "snap: unknown option '--heavy'; usage: snap [--light] LABEL"),
        ("diff a", "diff: two snapshot labels are needed (snaps lists them); usage: diff [--allocated] A B [--top N]"),
        ("diff a b --top", "diff: --top needs a number; usage: diff [--allocated] A B [--top N]"),
        ("diff a b --top 0", "diff: --top needs a positive number, got '0'; usage: diff [--allocated] A B [--top N]"),
        (
            "diff a b --tpo 3",
            "diff: unknown option '--tpo'; did you mean '--top'?; usage: diff [--allocated] A B [--top N]"
        ),
        ("top a b", "top: one snapshot label at most; usage: top [LABEL] [--top N]"),
        ("snaps now", "snaps: it takes no arguments; usage: snaps"),
        ("connect", "connect: a connection name is needed; usage: connect NAME [USER@DB]"),
        ("use", "use: one connection name is needed; usage: use NAME"),
        ("step", "step: one step label is needed; usage: step LABEL"),
        ("monitor", "monitor: a monitor command is needed, e.g. monitor v.info stats; usage: monitor COMMAND..."),
        ("save-plan", "save-plan: one file name is needed; usage: save-plan FILE"),
        ("save-plan 'open", "unterminated '-quoted argument; close it with '"),
        ("quit now", "quit: it takes no arguments; usage: quit"),
        ("peak sort", "peak: it takes no arguments; usage: peak"),
        (
            "diff --alocated a b",
            "diff: unknown option '--alocated'; did you mean '--allocated'?; usage: diff [--allocated] A B [--top N]"
        ),
    ]

    @Test(arguments: refused)
    func refuses(line: String, message: String) {
        guard case .failure(let error) = ReplRequest.parse(line) else {
            Issue.record("\(line) parsed")
            return
        }
        #expect(error.message == message)
    }
}

@Suite("did you mean: edit distances")
struct EditDistanceTests {
    @Test(arguments: [
        ("snap", "snap", 0), ("snpa", "snap", 1), ("snp", "snap", 1), ("SNAP", "snap", 0), ("diff", "top", 4),
        ("", "abc", 3), ("kitten", "sitting", 3),
    ])
    func measures(lhs: String, rhs: String, distance: Int) {
        #expect(EditDistance.distance(lhs, rhs) == distance)
        #expect(EditDistance.distance(rhs, lhs) == distance)
    }

    @Test func suggestsOnlyNearWords() {
        #expect(EditDistance.closest(to: "snpa", among: ReplCommandSet.names, within: 2) == "snap")
        #expect(EditDistance.closest(to: "snapz", among: ReplCommandSet.names, within: 2) == "snap")
        #expect(EditDistance.closest(to: "zz", among: ReplCommandSet.names, within: 2) == nil)
        #expect(EditDistance.closest(to: "elephant", among: ReplCommandSet.names, within: 2) == nil)
    }
}

@Suite("help")
struct ReplCommandSetTests {
    @Test func listsEveryCommandWithItsUsage() {
        let help = ReplCommandSet.helpText()
        for entry in ReplCommandSet.entries {
            #expect(help.contains("  " + entry.usage + " "), "\(entry.name) missing from help")
        }
        #expect(help.contains("Any other line is SQL"))
    }

    @Test func explainsOneCommand() throws {
        let text = try #require(ReplCommandSet.helpText(for: "DIFF"))
        #expect(text.hasPrefix("usage: diff [--allocated] A B [--top N]\n"))
        #expect(ReplCommandSet.helpText(for: "nosuch") == nil)
    }

    @Test func everyCommandParses() {
        // Each command's usage, with placeholders filled, is accepted by the parser.
        for entry in ReplCommandSet.entries {
            let line = entry.usage
                .replacingOccurrences(of: "[--light] ", with: "")
                .replacingOccurrences(of: "[--allocated] ", with: "")
                .replacingOccurrences(of: " [--top N]", with: "")
                .replacingOccurrences(of: "[LABEL]", with: "")
                .replacingOccurrences(of: " [USER@DB]", with: "")
                .replacingOccurrences(of: " [COMMAND]", with: "")
                .replacingOccurrences(of: "COMMAND...", with: "v.info stats")
            #expect((try? ReplRequest.parse(line).get()) != nil, "\(line)")
        }
    }
}
