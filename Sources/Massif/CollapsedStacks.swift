/// One line of the collapsed-stack format that flame graph tools read (`flamegraph.pl`, inferno,
/// speedscope): the frames from the outermost caller to the allocation site, and a number of bytes.
public struct CollapsedStack: Sendable, Hashable, Codable {
    /// Frames, outermost caller first, allocation site last.
    public var frames: [String]
    /// Bytes allocated with exactly this stack (self bytes, not inclusive), or the signed change of them.
    public var bytes: Int

    public init(frames: [String], bytes: Int) {
        self.frames = frames
        self.bytes = bytes
    }

    /// `frame;frame;frame bytes`.
    public var line: String { frames.joined(separator: ";") + " " + String(bytes) }
}

/// Heap trees as collapsed stacks, so that the flame graph tools people already use can draw them.
///
/// Each node contributes its exclusive bytes (inclusive minus its callers'), so the lines of one tree add
/// up to its root's bytes exactly: to `mem_heap_B` for a tree Massif wrote. Massif's tree runs from the
/// allocation functions outwards; a collapsed stack runs the other way, so each path is reversed.
public enum CollapsedStacks {
    /// The frame name a tree's root stands for: bytes allocated with no caller recorded.
    public static func rootName(_ top: TopDescription) -> String {
        switch top {
        case .heapAllocationFunctions: return "(heap allocation functions)"
        case .pageAllocationSyscalls: return "(page allocation syscalls)"
        default: return top.displayName
        }
    }

    /// The name a frame has in a collapsed stack: the function (`???` frames keep their address, so that
    /// different unnamed functions stay apart), below-threshold sites as one name. `;` would split a frame, so
    /// it becomes `:`; line breaks become spaces.
    public static func name(_ frame: Frame) -> String {
        let text: String
        switch frame {
        case .code(let code):
            text = code.isUnknown ? "??? 0x" + String(code.address, radix: 16, uppercase: true) : code.function
        case .belowThreshold:
            text = HeapTree.belowThresholdKey
        }
        // Nearly every name has neither: checked on its bytes, kept as it is.
        guard text.utf8.contains(where: { $0 == 0x3B || $0 == 0x0A || $0 == 0x0D }) else { return text }
        return String(text.map { $0 == ";" ? ":" : ($0 == "\n" || $0 == "\r" ? " " : $0) })
    }

    /// The tree's stacks with their self bytes, merged when two paths print the same (sorted by stack).
    /// Stacks of zero bytes are left out; the sum of the result is `tree.bytes`.
    public static func fold(_ tree: HeapTree) -> [CollapsedStack] {
        var totals: [[String]: Int] = [:]
        let root = rootName(tree.top)
        if tree.exclusiveBytes > 0 { totals[[root]] = tree.exclusiveBytes }
        // Iterative: a tree from someone else may be deep.
        var stack: [(node: HeapNode, path: [String])] = tree.children.reversed().map { ($0, [name($0.frame)]) }
        while let (node, path) = stack.popLast() {
            if node.exclusiveBytes > 0 {
                let key = [root] + path.reversed()
                totals[key] = HeapArithmetic.saturatingAdd(totals[key, default: 0], node.exclusiveBytes)
            }
            for child in node.children.reversed() { stack.append((child, path + [name(child.frame)])) }
        }
        return sorted(totals)
    }

    /// The signed change of every stack from `before` to `after` (stacks that did not change are left out);
    /// the sum is `after.bytes - before.bytes`.
    public static func diff(before: HeapTree, after: HeapTree) -> [CollapsedStack] {
        var totals: [[String]: Int] = [:]
        for line in fold(after) {
            totals[line.frames] = HeapArithmetic.saturatingAdd(totals[line.frames, default: 0], line.bytes)
        }
        for line in fold(before) {
            totals[line.frames] = HeapArithmetic.saturatingSubtract(totals[line.frames, default: 0], line.bytes)
        }
        return sorted(totals.filter { $0.value != 0 })
    }

    /// The lines as text, one per stack, each ending with a newline.
    public static func render(_ stacks: [CollapsedStack]) -> String {
        var out = ""
        for stack in stacks {
            out += stack.line
            out += "\n"
        }
        return out
    }

    static func sorted(_ totals: [[String]: Int]) -> [CollapsedStack] {
        totals.filter { $0.value != 0 }.map { CollapsedStack(frames: $0.key, bytes: $0.value) }.sorted {
            $0.frames.lexicographicallyPrecedes($1.frames)
        }
    }
}
