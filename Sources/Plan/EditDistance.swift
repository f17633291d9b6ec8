/// Edit distances for "did you mean" suggestions: plan keys (``Suggestion``) and the REPL's commands and
/// labels share this one implementation.
public enum EditDistance {
    /// The optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours,
    /// ignoring case unless `ignoringCase` is false.
    public static func distance(_ lhs: String, _ rhs: String, ignoringCase: Bool = true) -> Int {
        let a = Array(ignoringCase ? lhs.lowercased() : lhs)
        let b = Array(ignoringCase ? rhs.lowercased() : rhs)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    /// The candidate nearest to `word` within `limit` edits (and fewer edits than `word` has characters, so
    /// that any two-letter word is not "near" every other); ties go to the earlier candidate.
    public static func closest(to word: String, among candidates: [String], within limit: Int) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let edits = distance(word, candidate)
            guard edits <= limit, edits < word.count else { continue }
            if best == nil || edits < (best?.distance ?? Int.max) { best = (candidate, edits) }
        }
        return best?.candidate
    }
}
