import Synchronization

extension HeapTree {
    /// The tree with allocator wrappers removed: each wrapper node is replaced by its callers, and siblings that
    /// then describe the same frame are merged (bytes added, callers merged recursively), so growth is
    /// attributed to the first real caller. Below-threshold aggregates among the same siblings are merged too.
    /// Bytes a wrapper allocated with no recorded caller stay on a node of its own.
    public func folded(by folding: AllocatorFolding) -> HeapTree {
        if folding.functions.isEmpty { return self }
        var cache = WrapperMemo.answers(for: folding)
        let known = cache.count
        let folded = HeapTree(top: top, bytes: bytes, children: Self.fold(children, folding, &cache) ?? children)
        if cache.count > known { WrapperMemo.remember(cache, for: folding) }
        return folded
    }

    /// The nodes with the wrappers among them (at any depth) folded away; `nil` when there is none, so
    /// that the (usually large) parts of a tree without wrappers are shared instead of rebuilt.
    private static func fold(
        _ nodes: [HeapNode],
        _ folding: AllocatorFolding,
        _ cache: inout [String: Bool]
    ) -> [HeapNode]? {
        var result: [HeapNode]?
        var wrapperHere = false
        for index in nodes.indices {
            let node = nodes[index]
            if case .code(let code) = node.frame, isWrapper(code, folding, &cache) {
                if result == nil { result = Array(nodes[..<index]) }
                wrapperHere = true
                result?.append(contentsOf: fold(node.children, folding, &cache) ?? node.children)
                let own = node.exclusiveBytes
                if own > 0 { result?.append(HeapNode(bytes: own, frame: node.frame)) }
            } else if let children = fold(node.children, folding, &cache) {
                if result == nil { result = Array(nodes[..<index]) }
                result?.append(HeapNode(bytes: node.bytes, frame: node.frame, children: children))
            } else {
                result?.append(node)
            }
        }
        guard let result else { return nil }
        return wrapperHere ? mergeSiblings(result) : result
    }

    /// Whether a frame is a wrapper, remembered by function name: the answer depends on nothing else, and
    /// a name is shorter to hash than the frame's whole text and repeats across addresses and lines.
    private static func isWrapper(_ code: CodeFrame, _ folding: AllocatorFolding, _ cache: inout [String: Bool]) -> Bool
    {
        if let known = cache[code.function] { return known }
        let answer = folding.isWrapper(code)
        cache[code.function] = answer
        return answer
    }

    /// Merges siblings with the same frame (and all below-threshold aggregates), then sorts them as Massif does:
    /// bytes descending, ties by description.
    static func mergeSiblings(_ nodes: [HeapNode]) -> [HeapNode] {
        var order: [MergeKey] = []
        var groups: [MergeKey: [HeapNode]] = [:]
        for node in nodes {
            let key = MergeKey(node.frame)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(node)
        }
        var merged: [HeapNode] = []
        merged.reserveCapacity(order.count)
        for key in order {
            guard let group = groups[key] else { continue }
            if group.count == 1 {
                merged.append(group[0])
                continue
            }
            let bytes = group.reduce(0) { HeapArithmetic.saturatingAdd($0, $1.bytes) }
            var frame = group[0].frame
            if case .belowThreshold(_, let threshold) = frame {
                let places = group.reduce(0) { total, node in
                    guard case .belowThreshold(let count, _) = node.frame else { return total }
                    return HeapArithmetic.saturatingAdd(total, count)
                }
                frame = .belowThreshold(places: places, thresholdHundredths: threshold)
            }
            merged.append(HeapNode(bytes: bytes, frame: frame, children: mergeSiblings(group.flatMap(\.children))))
        }
        merged.sort { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.frame.text < $1.frame.text }
        return merged
    }

    /// The `limit` largest allocation sites: the first level of the tree folded by `folding` (the first real
    /// callers of the allocation functions), largest first.
    public func topSites(_ limit: Int, folding: AllocatorFolding = .mariadbDefault) -> [HeapNode] {
        let sites = folded(by: folding).children.sorted {
            $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.frame.text < $1.frame.text
        }
        return Array(sites.prefix(max(0, limit)))
    }

    /// Bytes per function, the same function at several addresses or lines merged.
    ///
    /// `inclusiveBytes` counts a function once per path even when it recurses; `directBytes` is what it allocated
    /// itself, i.e. as a first-level node after folding. Unknown functions (`???`) are kept apart by address.
    /// Sorted by inclusive bytes, largest first.
    public func functionTotals(folding: AllocatorFolding = .mariadbDefault) -> [FunctionTotal] {
        let tree = folded(by: folding)
        // One lookup per node: a slot per function, its figures in arrays beside the names.
        var slots: [String: Int] = [:]
        var names: [String] = []
        var inclusive: [Int] = []
        var direct: [Int] = []
        var onPath: [Int] = []
        var nearest: [Int] = []
        func visit(_ node: HeapNode, depth: Int) {
            guard let key = Self.functionKey(node.frame) else { return }
            let slot: Int
            if let known = slots[key] {
                slot = known
            } else {
                slot = names.count
                slots[key] = slot
                names.append(key)
                inclusive.append(0)
                direct.append(0)
                onPath.append(0)
                nearest.append(depth)
            }
            if depth == 1 { direct[slot] = HeapArithmetic.saturatingAdd(direct[slot], node.bytes) }
            nearest[slot] = min(nearest[slot], depth)
            if onPath[slot] == 0 { inclusive[slot] = HeapArithmetic.saturatingAdd(inclusive[slot], node.bytes) }
            onPath[slot] += 1
            for child in node.children { visit(child, depth: depth + 1) }
            onPath[slot] -= 1
        }
        for child in tree.children { visit(child, depth: 1) }
        return names.indices.map { slot in
            FunctionTotal(
                function: names[slot],
                inclusiveBytes: inclusive[slot],
                directBytes: direct[slot],
                nearestDepth: nearest[slot]
            )
        }
        .sorted { FunctionTotal.precedes($0.inclusiveBytes, $0, $1.inclusiveBytes, $1) }
    }

    /// The aggregation key of a frame: the function name, or the whole description for `???`; nil for
    /// below-threshold aggregates, which are no function.
    static func functionKey(_ frame: Frame) -> String? {
        guard case .code(let code) = frame else { return nil }
        return code.isUnknown ? code.text : code.function
    }

    /// Every call path that owns bytes, as the frame descriptions from the allocation site outwards, with the
    /// bytes allocated with exactly that stack (a node's exclusive bytes). Below-threshold aggregates end a path
    /// as `HeapTree.belowThresholdKey`, whatever their place count, so that a count change is not a new path.
    public func pathBytes() -> [[String]: Int] {
        var numbers: [String: Int] = [:]
        var texts: [String] = []
        var result: [[String]: Int] = [:]
        for (path, bytes) in numberedPathBytes(numbers: &numbers, texts: &texts) {
            result[path.map { texts[$0] }] = bytes
        }
        return result
    }

    /// ``pathBytes()`` with every path element replaced by its number in `texts`, a numbering that the
    /// trees being compared share (`numbers` maps a text back to its number).
    ///
    /// Why: a diff looks up every path of one tree in the other's; hashing a path of numbers instead of a
    /// path of frame texts (tens of frames, tens of bytes each) made that several times cheaper.
    func numberedPathBytes(numbers: inout [String: Int], texts: inout [String]) -> [[Int]: Int] {
        var result: [[Int]: Int] = [:]
        var path: [Int] = []
        func number(_ text: String) -> Int {
            if let known = numbers[text] { return known }
            let assigned = texts.count
            numbers[text] = assigned
            texts.append(text)
            return assigned
        }
        func visit(_ node: HeapNode) {
            switch node.frame {
            case .code(let code): path.append(number(code.text))
            case .belowThreshold: path.append(number(Self.belowThresholdKey))
            }
            let own = node.exclusiveBytes
            if own > 0 { result[path] = HeapArithmetic.saturatingAdd(result[path, default: 0], own) }
            for child in node.children { visit(child) }
            path.removeLast()
        }
        for child in children { visit(child) }
        return result
    }

    /// The path element that stands for Massif's below-threshold aggregates.
    public static let belowThresholdKey = "(below massif's threshold)"
}

/// Bytes attributed to one function in one tree (`HeapTree.functionTotals(folding:)`).
public struct FunctionTotal: Sendable, Hashable, Codable {
    /// The function name (or the full description of a `???` frame).
    public var function: String
    /// Bytes allocated through this function anywhere in the stack, counted once per path.
    public var inclusiveBytes: Int
    /// Bytes this function allocated itself (it is the first real caller).
    public var directBytes: Int
    /// How close to an allocation the function comes: 1 when it allocates itself, 2 for its callers, ...
    public var nearestDepth: Int = 1

    /// Whether Valgrind could not name the function (a `???` frame of a stripped binary).
    public var isUnknown: Bool { function.hasPrefix("???") || function.hasPrefix("0x") }

    /// The listing order for functions with sizes `a` and `b`: larger first; on a tie (a whole chain of
    /// callers carries the same bytes) named functions before `???` frames and the one nearest the
    /// allocation first, so that the code that asked for the memory leads rather than `main`.
    static func precedes(_ a: Int, _ lhs: FunctionTotal, _ b: Int, _ rhs: FunctionTotal) -> Bool {
        if a != b { return a > b }
        if lhs.isUnknown != rhs.isUnknown { return !lhs.isUnknown }
        if lhs.nearestDepth != rhs.nearestDepth { return lhs.nearestDepth < rhs.nearestDepth }
        return lhs.function < rhs.function
    }
}

/// Siblings are merged when their code descriptions are equal; all below-threshold aggregates merge together.
enum MergeKey: Hashable {
    case code(String)
    case belowThreshold

    init(_ frame: Frame) {
        switch frame {
        case .code(let code): self = .code(code.text)
        case .belowThreshold: self = .belowThreshold
        }
    }
}

extension HeapTree {
    /// The tree of what grew from `before` to this tree, per call path: every path's own bytes here minus its
    /// own bytes in `before`, paths that did not grow left out.
    ///
    /// Made for the monotonic counters of an xtree dump (`totB`, `totBk`: allocated since the start), where
    /// the growth between two dumps of the same process is what was allocated between them, and is never
    /// negative per path. The result is a valid tree (a node's bytes are its own plus its children's) with
    /// this tree's root description, children largest first as Massif writes them.
    public func growth(since before: HeapTree) -> HeapTree {
        let old = before.pathBytes()
        var grown: [[String]: Int] = [:]
        for (path, bytes) in pathBytes() {
            let delta = bytes.subtractingReportingOverflow(old[path] ?? 0)
            if !delta.overflow, delta.partialValue > 0 { grown[path] = delta.partialValue }
        }
        return HeapTree(top: top, paths: grown)
    }

    /// A tree from call paths (frame descriptions from the allocation site outwards) and each path's own bytes.
    public init(top: TopDescription, paths: [[String]: Int]) {
        final class Trie {
            var own = 0
            var children: [String: Trie] = [:]
        }
        let root = Trie()
        for (path, bytes) in paths {
            var node = root
            for text in path {
                if let next = node.children[text] {
                    node = next
                } else {
                    let next = Trie()
                    node.children[text] = next
                    node = next
                }
            }
            node.own = node.own.addingReportingOverflow(bytes).overflow ? Int.max : node.own + bytes
        }
        func build(_ trie: Trie) -> (bytes: Int, children: [HeapNode]) {
            var children: [HeapNode] = []
            var total = trie.own
            for (text, child) in trie.children {
                let built = build(child)
                let frame: Frame =
                    text == HeapTree.belowThresholdKey
                    ? .belowThreshold(places: 1, thresholdHundredths: 0)
                    : CodeFrame(text: text).map { .code($0) } ?? .belowThreshold(places: 1, thresholdHundredths: 0)
                children.append(HeapNode(bytes: built.bytes, frame: frame, children: built.children))
                let sum = total.addingReportingOverflow(built.bytes)
                total = sum.overflow ? Int.max : sum.partialValue
            }
            children.sort { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.frame.text < $1.frame.text }
            return (total, children)
        }
        let built = build(root)
        self.init(top: top, bytes: built.bytes, children: built.children)
    }
}

/// Which frames are wrappers, remembered across trees: a run's snapshots share most of their frames, and
/// a report folds each snapshot several times (diffs, trees, flame graphs), so deciding each frame once per
/// process instead of once per tree saves most of the folding's time. Bounded: past
/// ``WrapperMemo/limit`` frames for one folding the memo starts again, so a hostile file of millions of
/// distinct frames cannot grow it without end.
enum WrapperMemo {
    static let limit = 200_000
    private static let memo = Mutex<[AllocatorFolding: [String: Bool]]>([:])

    static func answers(for folding: AllocatorFolding) -> [String: Bool] {
        memo.withLock { $0[folding] ?? [:] }
    }

    static func remember(_ answers: [String: Bool], for folding: AllocatorFolding) {
        memo.withLock { memo in
            if memo.count > 16 { memo.removeAll() }
            memo[folding] = answers.count > limit ? nil : answers
        }
    }
}
