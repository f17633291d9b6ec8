/// Which server variable sizes the memory a function allocates: `filesort` -> `sort_buffer_size`, the heap engine ->
/// `tmp_table_size` / `max_heap_table_size`, and so on. A DBA reads a growing call path as "raise or lower this".
///
/// It is data: `mariadbDefault` lists the buffers of MariaDB (and MySQL, where the names agree) by the functions that
/// allocate them, and users add their own from a file (`parse(_:fileName:)`, format in docs/massif.md). A rule's
/// pattern is matched against a frame's function name without parameter list and template arguments (as
/// `AllocatorFolding` reads it); `*` matches any run of characters (`hp_*`, `JOIN_CACHE::*`).
///
/// Frames must have function names: mariadbd without symbols shows `???` and matches nothing (install the server's
/// debug symbols, e.g. Debian's `mariadb-server-core-dbgsym`).
public struct ServerVariableMap: Sendable, Hashable, Codable {
    /// One entry: functions matching `pattern` allocate memory sized by `variables`.
    public struct Rule: Sendable, Hashable, Codable {
        public var pattern: String
        public var variables: [String]
        /// What the memory is, for people (`filesort's key buffer`).
        public var note: String

        public init(_ pattern: String, _ variables: [String], note: String = "") {
            self.pattern = pattern
            self.variables = variables
            self.note = note
        }

        /// True when the pattern matches the function's base name.
        public func matches(function name: String) -> Bool {
            Self.glob(Array(pattern.utf8)[...], Array(name.utf8)[...])
        }

        private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
            guard let star = pattern.firstIndex(of: UInt8(ascii: "*")) else { return pattern.elementsEqual(text) }
            let head = pattern[pattern.startIndex..<star]
            guard text.starts(with: head) else { return false }
            let rest = pattern[(star + 1)...]
            var start = text.startIndex + head.count
            while true {
                if glob(rest, text[start...]) { return true }
                if start == text.endIndex { return false }
                start += 1
            }
        }
    }

    /// Rules in order: the first that matches a frame wins.
    public var rules: [Rule]

    public init(rules: [Rule]) {
        self.rules = rules
    }

    /// The rule for a function name (as Valgrind prints it, parameters and all), or nil.
    public func rule(forFunction function: String) -> Rule? {
        let name = AllocatorFolding.baseName(function)
        return rules.first { $0.matches(function: name) }
    }

    /// The rule for a frame; unknown frames (`???`) have none.
    public func rule(for frame: CodeFrame) -> Rule? {
        frame.isUnknown ? nil : rule(forFunction: frame.function)
    }

    /// For a call path (allocation site first), the frame nearest the allocation that a rule matches.
    public func attribute(_ path: [CodeFrame]) -> (frame: CodeFrame, rule: Rule)? {
        for frame in path {
            if let rule = rule(for: frame) { return (frame, rule) }
        }
        return nil
    }

    /// These rules first (a user's own take precedence), then this map's.
    public func adding(_ more: [Rule]) -> ServerVariableMap {
        ServerVariableMap(rules: more + rules)
    }

    /// The buffers a MySQL or MariaDB DBA sizes, by the functions that allocate them in MariaDB's sources.
    public static let mariadbDefault = ServerVariableMap(rules: [
        // Sorting.
        Rule("Filesort_buffer::*", ["sort_buffer_size"], note: "filesort's key buffer"),
        Rule("filesort", ["sort_buffer_size"], note: "filesort's key buffer"),
        Rule("Filesort::*", ["sort_buffer_size"], note: "filesort"),
        // Joins.
        Rule("JOIN_CACHE::*", ["join_buffer_size", "join_buffer_space_limit"], note: "block-based join buffer"),
        Rule("JOIN_CACHE_*", ["join_buffer_size", "join_buffer_space_limit"], note: "block-based join buffer"),
        // In-memory temporary tables (the heap engine) and internal temporary tables.
        Rule("hp_*", ["tmp_table_size", "max_heap_table_size"], note: "MEMORY/heap table blocks"),
        Rule("heap_*", ["tmp_table_size", "max_heap_table_size"], note: "MEMORY/heap table"),
        Rule("ha_heap::*", ["tmp_table_size", "max_heap_table_size"], note: "MEMORY/heap table"),
        Rule("create_tmp_table", ["tmp_table_size", "max_heap_table_size"], note: "internal temporary table"),
        Rule("Create_tmp_table::*", ["tmp_table_size", "max_heap_table_size"], note: "internal temporary table"),
        Rule("instantiate_tmp_table", ["tmp_table_size", "max_heap_table_size"], note: "internal temporary table"),
        // The heap engine's own functions are not exported from a stripped mariadbd, but the handler call that
        // writes a row into an internal temporary table is: blocks under it are the temporary table's.
        Rule(
            "handler::ha_write_tmp_row",
            ["tmp_table_size", "max_heap_table_size"],
            note: "internal temporary table rows"
        ),
        // Read buffers.
        Rule("init_rr_cache", ["read_rnd_buffer_size"], note: "reading rows in sorted order"),
        Rule("rr_from_cache", ["read_rnd_buffer_size"], note: "reading rows in sorted order"),
        Rule("DsMrr_impl::*", ["mrr_buffer_size", "read_rnd_buffer_size"], note: "multi-range read buffer"),
        Rule("mi_extra", ["read_buffer_size"], note: "MyISAM sequential scan cache"),
        Rule("_mi_read_cache", ["read_buffer_size"], note: "MyISAM sequential scan cache"),
        Rule("maria_extra", ["read_buffer_size"], note: "Aria sequential scan cache"),
        Rule("READ_INFO::READ_INFO", ["read_buffer_size"], note: "LOAD DATA read buffer"),
        // Network.
        Rule("my_net_init", ["net_buffer_length"], note: "connection buffer"),
        Rule("net_realloc", ["net_buffer_length", "max_allowed_packet"], note: "connection buffer growth"),
        // Binary log caches.
        Rule("THD::binlog_setup_trx_data", ["binlog_cache_size", "binlog_stmt_cache_size"], note: "binlog caches"),
        Rule("binlog_cache_mngr::*", ["binlog_cache_size", "binlog_stmt_cache_size"], note: "binlog caches"),
        Rule("binlog_cache_data::*", ["binlog_cache_size", "binlog_stmt_cache_size"], note: "binlog caches"),
        // Key caches and page caches.
        Rule("init_key_cache", ["key_buffer_size"], note: "MyISAM key cache"),
        Rule("init_simple_key_cache", ["key_buffer_size"], note: "MyISAM key cache"),
        Rule("resize_key_cache", ["key_buffer_size"], note: "MyISAM key cache"),
        Rule("init_pagecache", ["aria_pagecache_buffer_size"], note: "Aria page cache"),
        // InnoDB.
        Rule("buf_pool_t::*", ["innodb_buffer_pool_size"], note: "InnoDB buffer pool"),
        Rule("buf_pool_init", ["innodb_buffer_pool_size"], note: "InnoDB buffer pool"),
        Rule("buf_chunk_init", ["innodb_buffer_pool_size"], note: "InnoDB buffer pool"),
        Rule("log_t::create", ["innodb_log_buffer_size"], note: "InnoDB redo log buffer"),
        Rule("log_t::attach", ["innodb_log_buffer_size"], note: "InnoDB redo log buffer"),
        Rule("log_buffer_extend", ["innodb_log_buffer_size"], note: "InnoDB redo log buffer"),
        Rule("row_merge_buf_create", ["innodb_sort_buffer_size"], note: "InnoDB index build sort buffer"),
        Rule("row_merge_build_indexes", ["innodb_sort_buffer_size"], note: "InnoDB index build"),
        Rule("fts_cache_*", ["innodb_ft_cache_size", "innodb_ft_total_cache_size"], note: "InnoDB full-text cache"),
        // MyISAM and Aria maintenance.
        Rule("mi_init_bulk_insert", ["bulk_insert_buffer_size"], note: "MyISAM bulk insert tree"),
        Rule("_ma_init_bulk_insert", ["bulk_insert_buffer_size"], note: "Aria bulk insert tree"),
        Rule("mi_repair_by_sort", ["myisam_sort_buffer_size"], note: "MyISAM index sort"),
        Rule("_create_index_by_sort", ["myisam_sort_buffer_size"], note: "MyISAM index sort"),
        Rule("maria_repair_by_sort", ["aria_sort_buffer_size"], note: "Aria index sort"),
        Rule("_ma_create_index_by_sort", ["aria_sort_buffer_size"], note: "Aria index sort"),
        // Caches of the SQL layer.
        Rule("Query_cache::*", ["query_cache_size"], note: "query cache"),
        Rule("tdc_acquire_share", ["table_definition_cache"], note: "table definition cache"),
        Rule("alloc_table_share", ["table_definition_cache"], note: "table definition cache"),
        Rule("open_table_def", ["table_definition_cache"], note: "table definition cache"),
        Rule("open_table_from_share", ["table_open_cache"], note: "open table instance"),
        Rule("sp_cache_*", ["stored_program_cache"], note: "stored routine cache"),
        Rule("Prepared_statement::*", ["max_prepared_stmt_count"], note: "prepared statements"),
        Rule("hostname_cache_init", ["host_cache_size"], note: "host cache"),
        // Per-statement arenas.
        Rule("alloc_query", ["query_prealloc_size", "query_alloc_block_size"], note: "statement text and parse"),
        Rule("SQL_SELECT::test_quick_select", ["range_alloc_block_size"], note: "range optimizer"),
        Rule("Item_func_group_concat::*", ["group_concat_max_len", "tmp_table_size"], note: "GROUP_CONCAT"),
        Rule("Opt_trace_*", ["optimizer_trace_max_mem_size"], note: "optimizer trace"),
        // Per connection.
        Rule("THD::THD", ["max_connections"], note: "a connection's session state"),
    ])

    // MARK: - Users' files

    /// A line of a map file that cannot be read.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var fileName: String
        public var line: Int
        public var column: Int
        public var expected: String
        public var found: String

        public var description: String { "\(fileName):\(line):\(column): expected \(expected), got \(found)" }
    }

    /// Reads rules from a file's text, one per line: `PATTERN = VARIABLE[, VARIABLE...]`, optionally followed by
    /// `# note`; blank lines and lines starting with `#` are skipped.
    ///
    ///     # my storage engine's buffers
    ///     my_engine_alloc_* = my_engine_buffer_size   # row buffer
    ///     Filesort_buffer::* = sort_buffer_size, max_sort_length
    public static func parse(_ text: String, fileName: String) throws(ParseError) -> [Rule] {
        var rules: [Rule] = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            func fail(_ expected: String, at index: Substring.Index, found: Substring) -> ParseError {
                ParseError(
                    fileName: fileName,
                    line: number,
                    column: line.distance(from: line.startIndex, to: index) + 1,
                    expected: expected,
                    found: found.isEmpty ? "end of line" : "\"\(found.prefix(60))\""
                )
            }
            var body = line[...]
            var note = ""
            if let hash = line.firstIndex(of: "#") {
                body = line[..<hash]
                note = line[line.index(after: hash)...].trimmingSpaces()
            }
            guard let equals = body.firstIndex(of: "=") else {
                throw fail("\"PATTERN = VARIABLE[, VARIABLE...]\"", at: trimmed.startIndex, found: trimmed)
            }
            let pattern = body[..<equals].trimmingSpaces()
            guard !pattern.isEmpty else { throw fail("a function pattern before \"=\"", at: equals, found: "\"=\"") }
            var variables: [String] = []
            for part in body[body.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false) {
                let name = part.trimmingSpaces()
                let start = part.firstIndex { $0 != " " && $0 != "\t" } ?? part.startIndex
                guard !name.isEmpty, name.utf8.allSatisfy(Self.isVariableByte) else {
                    throw fail("a server variable name (letters, digits, _)", at: start, found: part[start...])
                }
                variables.append(name)
            }
            rules.append(Rule(pattern, variables, note: note))
        }
        return rules
    }

    private static func isVariableByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."):
            return true
        default: return false
        }
    }
}

extension HeapTree {
    /// Bytes per sizing rule: every call path's own bytes go to the rule of the frame nearest its allocation site
    /// (after folding allocator wrappers); paths no rule matches are left out. Largest first.
    public func bytesBySizingVariable(
        _ map: ServerVariableMap = .mariadbDefault,
        folding: AllocatorFolding = .mariadbDefault
    ) -> [(rule: ServerVariableMap.Rule, bytes: Int)] {
        var totals: [ServerVariableMap.Rule: Int] = [:]
        var order: [ServerVariableMap.Rule] = []
        var path: [CodeFrame] = []
        func visit(_ node: HeapNode) {
            guard case .code(let code) = node.frame else { return }
            path.append(code)
            let own = node.exclusiveBytes
            if own > 0, let (_, rule) = map.attribute(path) {
                if totals[rule] == nil { order.append(rule) }
                totals[rule] = HeapArithmetic.saturatingAdd(totals[rule, default: 0], own)
            }
            for child in node.children { visit(child) }
            path.removeLast()
        }
        for child in folded(by: folding).children { visit(child) }
        return order.map { ($0, totals[$0] ?? 0) }.sorted { $0.bytes > $1.bytes }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = lastIndex { $0 != " " && $0 != "\t" }.map(index(after:)) ?? start
        return String(self[start..<Swift.max(start, end)])
    }
}
