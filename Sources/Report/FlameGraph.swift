import Massif
import TextFormat

/// A flame graph drawn as an icicle: the outermost callers in the top row, each frame's callees below it,
/// every frame as wide as the bytes under it. Built from collapsed stacks, so a step's growth (the signed
/// change between its snapshots, of which the positive part is drawn) and a snapshot's heap draw alike.
///
/// Pure SVG with a `<title>` per frame: readable and hoverable with scripts off, nothing fetched.
struct FlameGraph {
    /// A frame of the graph: its name, the bytes under it, its callees.
    final class Node {
        let name: String
        var bytes = 0
        var children: [String: Node] = [:]
        var order: [String] = []

        init(name: String) { self.name = name }

        func child(_ name: String) -> Node {
            if let existing = children[name] { return existing }
            let node = Node(name: name)
            children[name] = node
            order.append(name)
            return node
        }
    }

    /// How the graph is drawn.
    struct Limits {
        var width = 1000.0
        var rowHeight = 17.0
        /// Rows below this depth are left out (their bytes stay in the frames above).
        var depth = 40
        /// Frames narrower than this many pixels are left out (their bytes stay in their caller).
        var minimumWidth = 1.0
    }

    let root: Node
    let limits: Limits

    /// The graph of the positive lines of `stacks` (growth); `nil` when nothing grew.
    ///
    /// The first frame of every stack is the tree's root (`(heap allocation functions)`), which is the same
    /// for every line and is dropped: the top row is the outermost callers.
    init?(stacks: [CollapsedStack], limits: Limits = Limits()) {
        let root = Node(name: "all")
        for stack in stacks where stack.bytes > 0 {
            root.bytes &+= stack.bytes
            var node = root
            for frame in stack.frames.dropFirst() {
                node = node.child(frame)
                node.bytes &+= stack.bytes
            }
        }
        guard root.bytes > 0 else { return nil }
        self.root = root
        self.limits = limits
    }

    /// The number of rows drawn.
    var rows: Int {
        func depth(_ node: Node, _ level: Int) -> Int {
            guard level < limits.depth else { return level }
            let scale = limits.width / Double(root.bytes)
            let wide = node.children.values.filter { Double($0.bytes) * scale >= limits.minimumWidth }
            return wide.map { depth($0, level + 1) }.max() ?? level
        }
        return max(1, depth(root, 0))
    }

    /// The graph as an inline `<svg>`; `label` names it for screen readers.
    func svg(label: String) -> String {
        let height = Double(rows) * limits.rowHeight
        var out = "<svg class=\"flame\" role=\"img\" aria-label=\"\(HTML.escape(label))\" "
        out += "viewBox=\"0 0 \(HTML.number(limits.width)) \(HTML.number(height))\" "
        out += "width=\"\(HTML.number(limits.width))\" height=\"\(HTML.number(height))\" "
        out += "xmlns=\"http://www.w3.org/2000/svg\">\n"
        let scale = limits.width / Double(root.bytes)
        var drawn = 0
        // Breadth by depth, iteratively: a tree from a file may be deep.
        var pending: [(node: Node, x: Double, level: Int)] = [(root, 0, 0)]
        while let (node, x, level) = pending.popLast() {
            var offset = x
            let children = node.order.compactMap { node.children[$0] }.sorted { $0.name < $1.name }
            for child in children {
                let width = Double(child.bytes) * scale
                defer { offset += width }
                guard width >= limits.minimumWidth, level < limits.depth else { continue }
                out += frame(child, x: offset, y: Double(level) * limits.rowHeight, width: width)
                drawn += 1
                pending.append((child, offset, level + 1))
            }
        }
        out += "</svg>\n"
        return out
    }

    func frame(_ node: Node, x: Double, y: Double, width: Double) -> String {
        let share = Double(node.bytes) / Double(root.bytes) * 100
        let title = "\(node.name)\n\(Format.signedBytes(node.bytes)) (\(Format.decimal(share))%)"
        var out = "<g><title>\(HTML.escape(title))</title>"
        out += "<rect x=\"\(HTML.number(x))\" y=\"\(HTML.number(y))\" width=\"\(HTML.number(max(width - 0.5, 0.5)))\" "
        out += "height=\"\(HTML.number(limits.rowHeight - 1))\" class=\"f\(Self.shade(node.name))\"/>"
        // About 6.5 pixels a character at the frame font size; a label that does not fit is cut with "…".
        let characters = Int((width - 6) / 6.5)
        if characters >= 3 {
            let short = RunReport.shortName(node.name)
            let label = short.count <= characters ? short : String(short.prefix(characters - 1)) + "…"
            out += "<text x=\"\(HTML.number(x + 3))\" y=\"\(HTML.number(y + limits.rowHeight - 5))\">"
            out += "\(HTML.escape(label))</text>"
        }
        out += "</g>\n"
        return out
    }

    /// One of six warm shades, the same for the same name on every graph of the page.
    static func shade(_ name: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % 6)
    }
}
