import Massif
import RunRecord
import Testing

@testable import Report

/// Massif snapshots built from a nested description, for the HTML and tree tests.
enum HTMLFixtures {
    /// A node of a hand-made tree: inclusive bytes, function name, callers.
    struct Node: Sendable {
        var bytes: Int
        var function: String
        var callers: [Node]

        init(_ bytes: Int, _ function: String, _ callers: [Node] = []) {
            self.bytes = bytes
            self.function = function
            self.callers = callers
        }
    }

    /// A detailed snapshot whose tree is `nodes` below the root (addresses from the function names, so the
    /// same function has the same frame text in every snapshot).
    static func snapshot(_ nodes: [Node], extra: Int = 0, light: Bool = false) throws -> Snapshot {
        let total = nodes.reduce(0) { $0 + $1.bytes }
        var text = """
            desc: (none)
            cmd: mariadbd
            time_unit: i
            #-----------
            snapshot=0
            #-----------
            time=10
            mem_heap_B=\(total)
            mem_heap_extra_B=\(extra)
            mem_stacks_B=0

            """
        if light {
            text += "heap_tree=empty\n"
        } else {
            text += "heap_tree=detailed\n"
            text += "n\(nodes.count): \(total) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
            for node in sorted(nodes) { write(node, depth: 1, into: &text) }
        }
        return try #require(try MassifFile.parse(text, fileName: "fixture.massif").snapshots.first)
    }

    static func sorted(_ nodes: [Node]) -> [Node] { nodes.sorted { $0.bytes > $1.bytes } }

    static func write(_ node: Node, depth: Int, into text: inout String) {
        var address = 0x40_0000
        for scalar in node.function.unicodeScalars { address = (address &* 31 &+ Int(scalar.value)) & 0xFF_FFFF }
        text += String(repeating: " ", count: depth)
        text += "n\(node.callers.count): \(node.bytes) 0x\(String(address, radix: 16, uppercase: true)): "
        text += "\(node.function) (in /usr/sbin/mariadbd)\n"
        for caller in sorted(node.callers) { write(caller, depth: depth + 1, into: &text) }
    }

    /// A snapshot record of a step.
    static func record(
        _ id: Int,
        step: String,
        phase: SnapshotPhase,
        round: Int? = nil,
        heap: Int,
        extra: Int = 0,
        light: Bool = false,
        counters: ServerCounters? = nil
    ) -> SnapshotRecord {
        SnapshotRecord(
            id: id,
            step: step,
            phase: phase,
            round: round,
            file: RunLayout.snapshotFile(id: id, phase: phase, fileSafeLabel: "x\(id)", round: round),
            kind: light ? .light : .detailed,
            time: 1 + Double(id) / 10,
            massifTime: id * 10,
            heapBytes: heap,
            extraBytes: extra,
            stacksBytes: 0,
            timelineIndex: id - 1,
            counters: counters,
            triggerLatencyMilliseconds: 4
        )
    }
}
