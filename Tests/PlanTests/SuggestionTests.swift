import Testing

@testable import Plan

@Suite struct SuggestionTests {
    @Test(
        arguments: [
            ("snapshot", ["snapshots", "steps", "sql"], "snapshots"),
            ("mian", ["main", "reader"], "main"),
            ("sever", ["server", "steps"], "server"),
            ("MiB", ["B", "MiB"], nil),
            ("mib", ["KiB", "MiB"], "MiB"),
            ("s", ["i", "ms", "B"], nil),
            ("xyzzy", ["server", "attach"], nil),
        ] as [(String, [String], String?)]
    )
    func suggestsCloseWords(word: String, candidates: [String], expected: String?) {
        #expect(Suggestion.closest(to: word, among: candidates) == expected)
    }

    @Test func countsSwapsAsOneEdit() {
        #expect(Suggestion.editDistance("ab", "ba") == 1)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("", "abc") == 3)
    }
}
