import Massif
import RunRecord
import TextFormat

extension HTMLPage {
    /// The step's growth as a flame graph (icicle): the positive change of every call stack between the
    /// snapshots its allocation tree compares, allocator wrappers folded, outermost callers on top.
    mutating func flame(_ step: StepReport) {
        guard treeStepIndexes.contains(step.index), let (before, after, from, to) = comparedTrees(step) else { return }
        let stacks = CollapsedStacks.diff(before: before.folded(by: folding), after: after.folded(by: folding))
        let grew = stacks.filter { $0.bytes > 0 }.reduce(0) { $0 &+ $1.bytes }
        let shrank = stacks.filter { $0.bytes < 0 }.reduce(0) { $0 &+ $1.bytes }
        out += "<h4>Flame graph of the growth, \(HTML.escape(from)) to \(HTML.escape(to))</h4>\n"
        guard let graph = FlameGraph(stacks: stacks) else {
            out += "<p class=\"muted\">No call stack grew between these snapshots.</p>\n"
            return
        }
        out += "<div class=\"flame-wrap\">"
        out += graph.svg(label: "flame graph of the heap growth of step \(step.label)")
        out += "</div>\n<p class=\"muted\">Each frame is as wide as the bytes its call stacks added "
        out += "(\(HTML.escape(Format.signedBytes(grew))) in all"
        if shrank < 0 { out += "; stacks that shrank, \(HTML.escape(Format.signedBytes(shrank))), are not drawn" }
        out += "); outermost callers on top, the allocating function at the bottom of each column. Hover a frame "
        out += "for its name and bytes. <code>snapctl massif fold --diff</code> writes the same stacks for "
        out += "flamegraph.pl, inferno or speedscope.</p>\n"
    }

    /// The before and after trees the step's sections compare, with their labels.
    func comparedTrees(_ step: StepReport) -> (HeapTree, HeapTree, String, String)? {
        let records = manifest.snapshots(ofStep: step.label)
        guard let last = records.last(where: { $0.phase == .after || $0.phase == .snap }),
            let after = snapshots[last.id]?.tree
        else { return nil }
        var first = records.first { $0.phase == .before || $0.phase == .snap }
        if step.kind == .snap, let own = first { first = RunReport.previousPoint(before: own, in: manifest) }
        guard let first, first.id != last.id, let before = snapshots[first.id]?.tree else { return nil }
        return (before, after, first.label, last.label)
    }

    /// In pages mode, every global buffer variable beside the pages measured under the code that maps it;
    /// in heap mode, why the server's own figures can be far above Massif's.
    mutating func globalBuffers() {
        let pages = manifest.server?.pagesAsHeap == true
        out +=
            "<section id=\"global-buffers\"><h2>Global buffers: \(pages ? "measured as pages" : "not in the heap view")</h2>\n"
        guard pages else {
            out += "<p class=\"muted\">Massif measured the heap: the blocks of malloc and new. The server maps its "
            out += "large global buffers (innodb_buffer_pool_size, key_buffer_size, aria_pagecache_buffer_size, "
            out += "innodb_log_buffer_size) with mmap, which the heap view does not see, so the server's "
            out += "Memory_used and the process's size can be far above the heap. Run the plan with "
            out += "<code>massif: {pages_as_heap: true}</code> to measure every mapped page under the code that "
            out += "maps it.</p></section>\n"
            return
        }
        guard let id = report.globalBuffersSnapshot, let measured = report.globalBuffers,
            let record = manifest.snapshot(id: id), let tree = snapshots[id]?.tree
        else {
            out += "<p class=\"muted\">No detailed snapshot to attribute pages from.</p></section>\n"
            return
        }
        out += "<p class=\"muted\">Massif ran with --pages-as-heap=yes: totals count every mapped page (mmap, "
        out += "brk, thread stacks), each under the call stack that mapped it. At snapshot \(record.id) "
        out += "(\(HTML.escape(record.label))), \(HTML.escape(Format.bytes(tree.bytes))) were mapped. "
        out += "A buffer is measured under the first named function of its allocation path; frames without a "
        out += "name (??? on a binary without debug symbols) cannot be attributed.</p>\n"
        out += "<table class=\"sortable\" id=\"global-buffer-table\"><thead><tr><th data-type=\"text\">variable</th>"
        out +=
            "<th class=\"num\" data-type=\"num\">configured</th><th class=\"num\" data-type=\"num\">measured pages</th>"
        out += "<th data-type=\"text\">under</th></tr></thead><tbody>\n"
        for buffer in measured {
            out += "<tr><td class=\"mono\">\(HTML.escape(buffer.variable))</td>"
            out += numberCell(buffer.configured.map { (Double($0), Format.bytes(Int(clamping: $0))) })
            out += numberCell(buffer.measured.map { (Double($0), Format.bytes($0)) })
            if buffer.sites.isEmpty {
                out += "<td class=\"muted\">not attributable: no named frame of its allocation path in the tree</td>"
            } else {
                let sites = buffer.sites.map { "\($0.function) \(Format.bytes($0.bytes))" }
                out += "<td class=\"mono\">\(HTML.escape(sites.joined(separator: ", ")))</td>"
            }
            out += "</tr>\n"
        }
        let others = GlobalBuffers.attribute(tree, signatures: GlobalBuffers.otherMappings)
        for signature in GlobalBuffers.otherMappings {
            guard let sites = others[signature.variable] else { continue }
            let bytes = sites.values.reduce(0, &+)
            out += "<tr><td>\(HTML.escape(signature.variable))</td><td class=\"num muted\">–</td>"
            out += numberCell((Double(bytes), Format.bytes(bytes)))
            let names = sites.sorted { $0.value > $1.value }.map { "\($0.key) \(Format.bytes($0.value))" }
            out += "<td class=\"mono\">\(HTML.escape(names.joined(separator: ", ")))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        let committed = measured.flatMap(\.sites).contains { $0.function.hasPrefix("my_virtual_mem_commit") }
        if committed {
            out += "<p class=\"muted\">The buffer pool's address range is reserved (my_large_virtual_alloc) and then "
            out += "committed in place (my_virtual_mem_commit); Massif counts both mappings, so the pool's measured "
            out += "pages are up to twice innodb_buffer_pool_size.</p>\n"
        }
        out += "</section>\n"
    }
}
