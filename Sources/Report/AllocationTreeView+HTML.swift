import Massif
import TextFormat

extension AllocationTreeView {
    /// The tree as nested `<details>` rows: a row with callers is a `<summary>` that opens onto them, a
    /// row without is a plain line. Each row shows the frame (and its single callers), its bytes, a bar of
    /// its share of the snapshot's total, and its change. Works with JavaScript off; the page's script adds
    /// expand, collapse and find.
    func html() -> String {
        var out = "<div class=\"tree\"\(heapBefore == nil ? "" : " data-compared")>\n"
        out += "<div class=\"row tree-head\"><span class=\"twisty\"></span>"
        out += "<span class=\"name\">allocation site ← its callers</span><span class=\"bytes num\">bytes</span>"
        out += "<span class=\"share\">share of \(HTML.escape(Format.bytes(total)))</span>"
        out += "<span class=\"change num\">\(heapBefore == nil ? "" : "change")</span></div>\n"
        for row in rows { render(row, into: &out) }
        if let hidden { renderHidden(hidden, into: &out) }
        out += "</div>\n<p class=\"muted\">Heap in the tree: \(HTML.escape(Format.bytes(heapAfter)))"
        if let heapBefore {
            out += " (\(HTML.escape(Format.signedBytes(heapAfter - heapBefore)))"
            out += " since \(HTML.escape(Format.bytes(heapBefore))))"
        }
        out += ". \(shownRows) row\(shownRows == 1 ? "" : "s") shown: rows under "
        out += "\(Format.decimal(limits.minimumSharePercent))% of the total are summed up unless they changed by "
        out += "\(Format.decimal(limits.minimumChangePercent))% of the largest change"
        if droppedRows > 0 {
            out += "; \(droppedRows) more past the limit of \(limits.rows) rows or \(limits.depth) levels are summed "
            out += "into \"smaller callers\" (the snapshot file has them all)"
        }
        out += ".</p>\n"
        return out
    }

    private func render(_ row: Row, into out: inout String) {
        let same = heapBefore != nil && !row.changed
        if row.children.isEmpty && row.hidden == nil {
            out += "<div class=\"row\(same ? " same" : "")\"><span class=\"twisty\"></span>"
            cells(row, into: &out)
            out += "</div>\n"
            return
        }
        out +=
            "<details\(same ? " class=\"same\"" : "")\(row.open ? " open" : "")><summary class=\"row\"><span class=\"twisty\"></span>"
        cells(row, into: &out)
        out += "</summary>\n<div class=\"kids\">\n"
        for child in row.children { render(child, into: &out) }
        if let hidden = row.hidden { renderHidden(hidden, into: &out) }
        out += "</div></details>\n"
    }

    private func cells(_ row: Row, into out: inout String) {
        let shown = row.frames.prefix(limits.chainFrames)
        let title = row.frames.map(\.full).joined(separator: "\n← ")
        out += "<span class=\"name\" title=\"\(HTML.escape(title))\">"
        for (position, frame) in shown.enumerated() {
            if position > 0 { out += " <span class=\"by\">←</span> " }
            out += position == 0 ? "<b>\(HTML.escape(frame.name))</b>" : HTML.escape(frame.name)
            if let location = frame.location, position == 0 {
                out += " <span class=\"loc\">\(HTML.escape(location))</span>"
            }
        }
        if row.frames.count > shown.count {
            out += " <span class=\"by\">← … \(row.frames.count - shown.count) more</span>"
        }
        out += "</span>"
        numbers(after: row.after, before: row.before, into: &out)
    }

    private func renderHidden(_ hidden: Hidden, into out: inout String) {
        let same = hidden.before.map { $0 == hidden.after } ?? false
        out += "<div class=\"row rest\(same ? " same" : "")\"><span class=\"twisty\"></span><span class=\"name\">"
        out += "\(hidden.count) smaller caller\(hidden.count == 1 ? "" : "s") or site\(hidden.count == 1 ? "" : "s")"
        out += "</span>"
        numbers(after: hidden.after, before: hidden.before, into: &out)
        out += "</div>\n"
    }

    private func numbers(after: Int, before: Int?, into out: inout String) {
        out += "<span class=\"bytes num\">\(HTML.escape(Format.bytes(after)))</span>"
        let share = Double(after) / Double(max(total, 1)) * 100
        out += "<span class=\"share\"><span class=\"track\"><span class=\"fill\" "
        out += "style=\"width:\(HTML.percent(Double(after), of: Double(max(total, 1))))\"></span></span>"
        out += "<span>\(Format.decimal(share))%</span></span>"
        if let before {
            let delta = after - before
            out += "<span class=\"change num \(HTMLPage.tone(delta))\">"
            out += delta == 0 ? "0" : HTML.escape(Format.signedBytes(delta))
            out += "</span>"
        } else {
            out += "<span class=\"change num\"></span>"
        }
    }
}
