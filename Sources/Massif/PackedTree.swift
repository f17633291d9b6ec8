/// A snapshot's tree as the parser reads it: one flat array of nodes in file order (a node, then its first
/// child's subtree, then its second child's, ...), each naming its frame by number.
///
/// `snapctl massif print` renders these directly: no array of children per node, no reference counting of
/// frames, and a rendering of each frame made once for the whole file (by number) instead of once per line.
/// `HeapTree` is the nested form everything else works on; the parser builds it from this one.
public struct PackedTree: Sendable, Hashable {
    /// One tree line.
    public struct Node: Sendable, Hashable {
        /// Inclusive bytes (the number after `n<k>:`).
        public let bytes: Int
        /// The index just after this node's subtree: its children start at the next index, each child's
        /// subtree ends where the next child starts, and the last one ends here. Set when the subtree is read.
        public internal(set) var end: Int
        /// The number of the frame in the file's frame table (`PackedSnapshot.newFrames`); -1 for the root.
        public let frame: Int32
    }

    /// Which top description the root line carries.
    public let top: TopDescription
    /// The root first, then every line below it in file order. Never empty.
    public let nodes: [Node]

    init(top: TopDescription, nodes: [Node]) {
        self.top = top
        self.nodes = nodes
    }

    /// The nested tree, with frames looked up in `table` (the parser's, which numbered them).
    func heapTree(frames table: [Frame]) -> HeapTree {
        // Last line first: every node's subtree has been built when the node is reached, and its children sit
        // on top of `built` in file order. No recursion, so a deep tree cannot exhaust the stack.
        var built: [HeapNode] = []
        func children(of position: Int) -> [HeapNode] {
            var count = 0
            var child = position + 1
            while child < nodes[position].end {
                count += 1
                child = nodes[child].end
            }
            guard count > 0 else { return [] }
            var children: [HeapNode] = []
            children.reserveCapacity(count)
            for _ in 0..<count { children.append(built.removeLast()) }
            return children
        }
        var position = nodes.count - 1
        while position > 0 {
            let node = nodes[position]
            built.append(
                HeapNode(bytes: node.bytes, frame: table[Int(node.frame)], children: children(of: position))
            )
            position -= 1
        }
        return HeapTree(top: top, bytes: nodes[0].bytes, children: children(of: 0))
    }
}

/// A snapshot with its tree packed (`MassifParser.nextPacked()`), and the frames it is the first to name.
public struct PackedSnapshot: Sendable, Hashable {
    public let index: Int
    public let time: Int
    public let heapBytes: Int
    public let extraBytes: Int
    public let stacksBytes: Int
    public let kind: Snapshot.Kind
    /// Present exactly when `kind` is `.detailed` or `.peak`.
    public let tree: PackedTree?
    /// The frames first seen in this snapshot, numbered after those of the snapshots before it: a reader that
    /// appends them to its own table, snapshot after snapshot, can look up every frame number of every tree.
    public let newFrames: [Frame]

    /// Heap plus extra plus stacks, saturating (as `Snapshot.totalBytes`).
    public var totalBytes: Int {
        let (partial, overflow1) = heapBytes.addingReportingOverflow(extraBytes)
        let (total, overflow2) = partial.addingReportingOverflow(stacksBytes)
        return overflow1 || overflow2 ? Int.max : total
    }

    /// The nested snapshot, with frames looked up in `table`.
    func snapshot(frames table: [Frame]) -> Snapshot {
        Snapshot(
            index: index,
            time: time,
            heapBytes: heapBytes,
            extraBytes: extraBytes,
            stacksBytes: stacksBytes,
            kind: kind,
            tree: tree?.heapTree(frames: table)
        )
    }
}
