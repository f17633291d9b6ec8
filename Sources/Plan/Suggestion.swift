/// Did-you-mean suggestions by edit distance.
enum Suggestion {
    /// The candidate closest to `word`, when it is close enough to be a likely typo.
    ///
    /// Close enough means an edit distance (insertions, deletions, substitutions, and swaps of neighbours) of at
    /// most a third of the longer word, rounded down, or a difference in case only.
    static func closest(to word: String, among candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let distance = min(
                editDistance(word, candidate),
                editDistance(word.lowercased(), candidate.lowercased())
            )
            let limit = max(word.count, candidate.count) / 3
            let caseOnly = word.lowercased() == candidate.lowercased()
            guard distance <= limit || caseOnly else { continue }
            if best == nil || distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// The optimal string alignment distance between two words, case counted.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        EditDistance.distance(lhs, rhs, ignoringCase: false)
    }
}
