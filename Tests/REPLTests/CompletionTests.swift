import Testing

@testable import REPL

@Suite("Tab completion candidates")
struct CompletionTests {
    static let context = Completion.Context(
        snapshotLabels: ["before-load", "after-load", "mid", "final"],
        connections: ["main", "second"],
        planSteps: ["create", "load", "sort"]
    )

    static let cases: [(String, String, Completion.Candidates)] = [
        ("", "sn", .words(["snap", "snaps"])),
        ("", "sa", .words(["save-plan"])),
        ("", "", .words(ReplCommandSet.names)),
        ("diff ", "", .words(["final", "mid", "after-load", "before-load"])),
        ("diff ", "a", .words(["after-load"])),
        ("diff before-load ", "a", .words(["after-load"])),
        ("diff before-load after-load ", "", .words([])),
        ("diff a b ", "--t", .words(["--top"])),
        ("diff a b --top ", "", .words([])),
        ("top ", "m", .words(["mid"])),
        ("snap ", "--", .words(["--light"])),
        ("snap ", "x", .words([])),
        ("step ", "", .words(["create", "load", "sort"])),
        ("step ", "s", .words(["sort"])),
        ("use ", "s", .words(["second"])),
        ("connect ", "", .words(["main", "second"])),
        ("help ", "co", .words(["counters", "connect"])),
        ("save-plan ", "pl", .files),
        ("SELECT ", "x", .words([])),
    ]

    @Test(arguments: cases)
    func offers(before: String, word: String, expected: Completion.Candidates) {
        #expect(Completion.candidates(before: before, word: word, context: Self.context) == expected)
    }

    @Test func offersNothingInsideAStatement() {
        var context = Self.context
        context.continuingSQL = true
        #expect(Completion.candidates(before: "", word: "sn", context: context) == .words([]))
    }

    @Test func insertsTheCommonPrefix() {
        #expect(Completion.commonPrefix(["snap", "snaps"]) == "snap")
        #expect(Completion.commonPrefix(["before-load", "before-sort"]) == "before-")
        #expect(Completion.commonPrefix(["a", "b"]) == "")
        #expect(Completion.commonPrefix([]) == "")
    }
}
