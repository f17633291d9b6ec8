import Testing

@testable import Plan

@Suite struct SnapshotLabelTests {
    @Test(
        arguments: [
            ("sort", "sort", [Character]()),
            ("before sort!", "before_sort_", [" ", "!"]),
            ("v1.2_final-b", "v1.2_final-b", []),
            ("a/b/../c", "a_b_.._c", ["/"]),
            ("größe", "gr__e", ["ö", "ß"]),
            ("", "_", []),
        ] as [(String, String, [Character])]
    )
    func makesLabelsFileSafe(label: String, fileSafe: String, replaced: [Character]) {
        #expect(SnapshotLabel.fileSafe(label) == fileSafe)
        #expect(SnapshotLabel.replacedCharacters(in: label) == replaced)
    }
}
