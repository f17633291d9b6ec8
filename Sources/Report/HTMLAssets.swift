/// The style sheet and the script of `report.html`, inlined into every page so that it is one file that
/// needs nothing else.
///
/// The page is complete without the script: every figure, tree and table is in the HTML. The script only
/// adds sorting to the tables, a filter for the step table, and expand, collapse and find for the
/// allocation trees; the buttons and fields it uses are created by the script itself, so a reader without
/// JavaScript never sees controls that do nothing. When it has run it sets `data-script="ready"` on the
/// root element, which the rendering test looks for.
enum HTMLAssets {
    /// Light and dark colours (`prefers-color-scheme`), print without backgrounds, numbers in tabular
    /// figures.
    static let style = """
        :root{--fg:#1c2330;--muted:#5f6b7a;--bg:#fff;--panel:#f5f7fa;--line:#dde2e8;--accent:#2a5caa;
        --heap:#4c78a8;--extra:#e8a33d;--stacks:#9467bd;--grew:#c0392b;--shrank:#23824f;--warn:#9a6700;
        --band-a:#e9f0fb;--band-b:#f6f7f9;--alarm:#fbe3e0;--bar:#e3ebf7;--ok-bg:#e6f4ea;--bad-bg:#fdecea;
        --warn-bg:#fff6dd;color-scheme:light dark}
        @media (prefers-color-scheme:dark){:root{--fg:#e4e7eb;--muted:#9aa4b1;--bg:#15181c;--panel:#1e2228;
        --line:#313842;--accent:#7aa7e6;--heap:#5d8fcb;--extra:#d9973a;--stacks:#a783d1;--grew:#ff7b6b;
        --shrank:#5cc98a;--warn:#e0b341;--band-a:#1c2636;--band-b:#1a1d22;--alarm:#3b2222;--bar:#27344a;
        --ok-bg:#17301f;--bad-bg:#3b1f1f;--warn-bg:#33290f}}
        *{box-sizing:border-box}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:20px 24px 48px;
        max-width:1280px;color:var(--fg);background:var(--bg)}
        h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:32px 0 10px;padding-bottom:4px;
        border-bottom:1px solid var(--line)}h3{font-size:16px;margin:0}
        a{color:var(--accent)}code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px}
        pre{white-space:pre-wrap;word-break:break-word;background:var(--panel);border:1px solid var(--line);
        padding:8px 10px;border-radius:4px;margin:6px 0;max-height:24em;overflow:auto}
        .muted{color:var(--muted)}.grew{color:var(--grew)}.shrank{color:var(--shrank)}.flat{color:var(--muted)}
        .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .sub{color:var(--muted);margin:0 0 14px}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:12px;margin:14px 0}
        .card{background:var(--panel);border:1px solid var(--line);border-left:5px solid var(--line);
        border-radius:6px;padding:10px 12px}
        .card .k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
        .card .v{font-size:18px;font-weight:650;margin:2px 0}.card .d{font-size:13px}
        .card.good{border-left-color:var(--shrank)}.card.bad{border-left-color:var(--grew)}
        .card.warn{border-left-color:var(--warn)}
        .notice{border-radius:6px;padding:8px 12px;margin:10px 0;border:1px solid var(--line)}
        .notice.bad{background:var(--bad-bg)}.notice.warn{background:var(--warn-bg)}
        .notice ul{margin:4px 0;padding-left:20px}
        .badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;
        border:1px solid var(--line);white-space:nowrap}
        .badge.good{background:var(--ok-bg);color:var(--shrank)}.badge.bad{background:var(--bad-bg);color:var(--grew)}
        .badge.plain{color:var(--muted)}
        .legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12.5px;color:var(--muted);margin:4px 0}
        .legend i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
        .legend .dash{height:0;border-top:2px dashed var(--grew);width:18px;border-radius:0;vertical-align:3px}
        svg.timeline{width:100%;height:auto;display:block;font-family:system-ui,sans-serif}
        svg .band-a{fill:var(--band-a)}svg .band-b{fill:var(--band-b)}svg .band-alarm{fill:var(--alarm)}
        svg a.band:hover rect{opacity:.75}svg .band-edge{stroke:var(--line);stroke-width:1}
        svg .band-label{font-size:11px;fill:var(--fg);font-weight:600}svg .band-delta{font-size:11px}
        svg .band-delta.grew{fill:var(--grew)}svg .band-delta.shrank{fill:var(--shrank)}
        svg .band-delta.flat{fill:var(--muted)}
        svg .grid{stroke:var(--line);stroke-width:1}svg .axis{font-size:11px;fill:var(--muted)}
        svg .axis-line{stroke:var(--muted);stroke-width:1}
        svg .area-heap{fill:var(--heap);fill-opacity:.55}svg .area-extra{fill:var(--extra);fill-opacity:.75}
        svg .area-stacks{fill:var(--stacks);fill-opacity:.7}
        svg .total-line{fill:none;stroke:var(--heap);stroke-width:1.6}
        svg .marker.detailed{fill:var(--heap);stroke:var(--bg);stroke-width:1}
        svg .marker.light{fill:var(--bg);stroke:var(--heap);stroke-width:1.2}
        svg .budget line{stroke-width:1.6;stroke-dasharray:6 4}svg .budget.kept line{stroke:var(--warn)}
        svg .budget.broken line{stroke:var(--grew)}svg .budget text{font-size:11px;fill:var(--fg)}
        svg .peak-label{font-size:11px;font-weight:600;fill:var(--fg)}
        .flame-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:var(--panel)}
        svg.flame{display:block;max-width:100%;height:auto;font-family:ui-monospace,monospace}
        svg.flame text{font-size:11px;fill:#1c2330;pointer-events:none}
        svg.flame g:hover rect{stroke:var(--fg);stroke-width:1}
        svg.flame .f0{fill:#f2a65a}svg.flame .f1{fill:#eec060}svg.flame .f2{fill:#e8845c}
        svg.flame .f3{fill:#f5cf7a}svg.flame .f4{fill:#e9925f}svg.flame .f5{fill:#f0b35e}
        svg .peak-label,svg .budget text{paint-order:stroke;stroke:var(--bg);stroke-width:3px;stroke-linejoin:round}
        td.nowrap{white-space:nowrap}td.label{white-space:nowrap;max-width:280px;overflow:hidden;text-overflow:ellipsis}
        .wide{overflow-x:auto}.clamp{display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;overflow:hidden}
        table{border-collapse:collapse;width:100%;margin:8px 0}
        th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:600}
        tbody tr:hover{background:var(--panel)}td.num,th.num{text-align:right}
        th button.sort{font:inherit;color:inherit;text-transform:inherit;letter-spacing:inherit;background:none;
        border:0;padding:0;cursor:pointer}
        th[aria-sort=ascending] button.sort::after{content:" ▲"}th[aria-sort=descending] button.sort::after{content:" ▼"}
        tr.alarm td:first-child{box-shadow:inset 4px 0 var(--grew)}
        .deltabar{display:inline-block;height:8px;border-radius:2px;margin-left:6px;vertical-align:0}
        .deltabar.grew{background:var(--grew)}.deltabar.shrank{background:var(--shrank)}
        .filter{margin:6px 0;padding:4px 8px;font:inherit;border:1px solid var(--line);border-radius:4px;
        background:var(--bg);color:var(--fg);width:260px}
        section.step{border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:14px 0}
        section.step.alarm{border-color:var(--grew)}
        .step-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
        .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:4px 16px;margin:10px 0}
        .facts div{font-size:13px}.facts .k{display:block;font-size:11.5px;color:var(--muted)}
        .facts .v{font-weight:600;font-variant-numeric:tabular-nums}
        h4{font-size:13px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
        .sites{display:grid;grid-template-columns:minmax(180px,34%) 90px 1fr;gap:3px 10px;align-items:start}
        .sites .track{background:var(--panel);border-radius:3px;height:16px;margin-top:2px;position:relative}
        .sites .fill{height:16px;border-radius:3px;position:absolute;top:0}
        .sites .fill.grew{background:var(--grew);opacity:.8;left:0}
        .sites .fill.shrank{background:var(--shrank);opacity:.8;left:0}
        .sites .fn{font-weight:600;word-break:break-word}.sites .callers{font-size:12px;color:var(--muted);
        word-break:break-word}
        .tree{border:1px solid var(--line);border-radius:6px;padding:4px 0;margin:6px 0;font-size:13px}
        .tree-tools{display:flex;gap:8px;align-items:center;padding:4px 8px;flex-wrap:wrap}
        .tree-tools button{font:inherit;font-size:12px;padding:2px 8px;border:1px solid var(--line);border-radius:4px;
        background:var(--panel);color:var(--fg);cursor:pointer}
        .tree-tools input[type=search]{width:220px;margin:0}
        .row{display:flex;align-items:center;gap:8px;padding:1px 8px 1px 0;min-height:21px}
        .row:hover{background:var(--panel)}
        .row .name{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .row .name b{font-weight:600}.row .loc{color:var(--muted);font-size:12px}
        .row .by{color:var(--muted)}
        .row .bytes{width:84px}.row .share{width:150px;display:flex;align-items:center;gap:6px}
        .row .share .track{flex:1;height:8px;background:var(--panel);border-radius:2px;position:relative;
        border:1px solid var(--line)}
        .row .share .fill{position:absolute;left:0;top:0;bottom:0;background:var(--heap);border-radius:2px}
        .row .share span{width:46px;text-align:right;font-variant-numeric:tabular-nums;font-size:12px}
        .row .change{width:92px}
        .tree-head{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em;
        border-bottom:1px solid var(--line)}
        .tree details>summary{list-style:none;cursor:pointer}
        .tree details>summary::-webkit-details-marker{display:none}
        .tree .twisty{display:inline-block;width:14px;color:var(--muted);flex:none;text-align:center}
        .tree details>summary .twisty::before{content:"▸"}.tree details[open]>summary .twisty::before{content:"▾"}
        .tree .kids{margin-left:14px;border-left:1px dotted var(--line)}
        .tree .rest .name{color:var(--muted);font-style:italic}.tree.changed-only .same{display:none}
        .tree-tools label{font-size:12px;color:var(--muted)}
        .tree .match>.name,.tree .match .name b{background:var(--warn-bg);outline:1px solid var(--warn)}
        .meters{display:grid;grid-template-columns:220px 1fr 120px;gap:8px 12px;align-items:center;margin:10px 0}
        .meters .track{height:20px;background:var(--panel);border:1px solid var(--line);border-radius:3px;
        display:flex;overflow:hidden}
        .meters .seg{height:100%}.meters .seg.global{background:var(--stacks);opacity:.7}
        .meters .seg.session{background:var(--extra);opacity:.7}.meters .seg.peak{background:var(--heap)}
        .meters .seg.server{background:var(--accent);opacity:.6}.meters .seg.over{background:var(--grew)}
        .rounds{display:flex;align-items:flex-end;gap:2px;height:70px;border-bottom:1px solid var(--line);
        margin:6px 0 2px;max-width:720px;position:relative}
        .rounds .threshold{position:absolute;left:0;right:0;border-top:2px dashed var(--grew);height:0}
        .rounds div{flex:1;background:var(--heap);opacity:.75;min-height:2px;border-radius:2px 2px 0 0}
        .rounds div.up{background:var(--grew)}
        ul.verdicts{list-style:none;padding:0}ul.verdicts li{margin:4px 0}
        footer{margin-top:36px;font-size:12.5px;color:var(--muted);border-top:1px solid var(--line);padding-top:10px}
        @media print{body{max-width:none;padding:0}.tree-tools,.filter{display:none}section.step{break-inside:avoid-page}
        .card,.notice,pre{background:none}a{color:inherit;text-decoration:none}}
        """

    /// Progressive enhancement only: the page reads the same without it.
    static let script = """
        (function () {
          "use strict";
          var doc = document;
          function each(list, fn) { Array.prototype.forEach.call(list, fn); }

          // Sortable tables: a header with data-type="num" or "text" becomes a button.
          each(doc.querySelectorAll("table.sortable"), function (table) {
            var head = table.tHead, body = table.tBodies[0];
            if (!head || !body) { return; }
            each(head.rows[0].cells, function (th, column) {
              var type = th.getAttribute("data-type");
              if (!type) { return; }
              var button = doc.createElement("button");
              button.type = "button";
              button.className = "sort";
              button.textContent = th.textContent;
              th.textContent = "";
              th.appendChild(button);
              button.addEventListener("click", function () {
                var descending = th.getAttribute("aria-sort") !== "descending";
                var rows = Array.prototype.slice.call(body.rows);
                rows.sort(function (a, b) {
                  var x = key(a.cells[column], type), y = key(b.cells[column], type);
                  var order = x < y ? -1 : (x > y ? 1 : 0);
                  return descending ? -order : order;
                });
                rows.forEach(function (row) { body.appendChild(row); });
                each(head.rows[0].cells, function (other) { other.removeAttribute("aria-sort"); });
                th.setAttribute("aria-sort", descending ? "descending" : "ascending");
              });
            });
          });
          function key(cell, type) {
            var value = cell ? cell.getAttribute("data-value") : null;
            if (type === "num") {
              var number = parseFloat(value);
              return isNaN(number) ? -Infinity : number;
            }
            return (value !== null ? value : (cell ? cell.textContent : "")).toLowerCase();
          }

          // A filter above tables that ask for one.
          each(doc.querySelectorAll("table[data-filter]"), function (table) {
            var input = doc.createElement("input");
            input.type = "search";
            input.className = "filter";
            input.placeholder = table.getAttribute("data-filter");
            input.setAttribute("aria-label", table.getAttribute("data-filter"));
            table.parentNode.insertBefore(input, table);
            input.addEventListener("input", function () {
              var query = input.value.trim().toLowerCase();
              each(table.tBodies[0].rows, function (row) {
                row.hidden = query !== "" && row.textContent.toLowerCase().indexOf(query) < 0;
              });
            });
          });

          // Allocation trees: expand all, collapse all, and find a function (opening the rows above it).
          each(doc.querySelectorAll(".tree"), function (tree) {
            var tools = doc.createElement("div");
            tools.className = "tree-tools";
            function button(text, open) {
              var element = doc.createElement("button");
              element.type = "button";
              element.textContent = text;
              element.addEventListener("click", function () {
                each(tree.querySelectorAll("details"), function (details) { details.open = open; });
              });
              tools.appendChild(element);
            }
            button("expand all", true);
            button("collapse all", false);
            if (tree.hasAttribute("data-compared")) {
              var label = doc.createElement("label");
              var only = doc.createElement("input");
              only.type = "checkbox";
              only.addEventListener("change", function () { tree.classList.toggle("changed-only", only.checked); });
              label.appendChild(only);
              label.appendChild(doc.createTextNode(" only rows that changed"));
              tools.appendChild(label);
            }
            var find = doc.createElement("input");
            find.type = "search";
            find.className = "filter";
            find.placeholder = "find a function";
            find.setAttribute("aria-label", "find a function in this tree");
            tools.appendChild(find);
            var count = doc.createElement("span");
            count.className = "muted";
            tools.appendChild(count);
            tree.insertBefore(tools, tree.firstChild);
            find.addEventListener("input", function () {
              var query = find.value.trim().toLowerCase(), found = 0;
              each(tree.querySelectorAll(".row"), function (row) {
                var name = row.querySelector(".name");
                var hit = query !== "" && name !== null && name.textContent.toLowerCase().indexOf(query) >= 0;
                row.classList.toggle("match", hit);
                if (!hit) { return; }
                found += 1;
                for (var node = row.parentNode; node && node !== tree; node = node.parentNode) {
                  if (node.tagName === "DETAILS") { node.open = true; }
                }
              });
              count.textContent = query === "" ? "" : found + (found === 1 ? " row" : " rows");
            });
          });

          doc.documentElement.setAttribute("data-script", "ready");
        })();
        """
}
