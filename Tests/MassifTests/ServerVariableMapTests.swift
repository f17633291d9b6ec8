import Testing

@testable import Massif

@Suite struct ServerVariableMapTests {
    static let map = ServerVariableMap.mariadbDefault

    @Test(arguments: [
        ("Filesort_buffer::alloc_sort_buffer(unsigned int, unsigned int)", ["sort_buffer_size"]),
        ("filesort(THD*, TABLE*, Filesort*, Filesort_tracker*, JOIN*, unsigned long long)", ["sort_buffer_size"]),
        ("JOIN_CACHE::alloc_buffer()", ["join_buffer_size", "join_buffer_space_limit"]),
        ("JOIN_CACHE_BNL::init(bool)", ["join_buffer_size", "join_buffer_space_limit"]),
        ("hp_get_new_block(st_hp_share*, HP_BLOCK*, unsigned long*)", ["tmp_table_size", "max_heap_table_size"]),
        (
            "heap_create(char const*, st_heap_create_info*, st_heap_share**, char*)",
            ["tmp_table_size", "max_heap_table_size"]
        ),
        (
            "create_tmp_table(THD*, TMP_TABLE_PARAM*, List<Item>&, st_order*, bool, bool, unsigned long long, unsigned long long, st_mysql_const_lex_string const*, bool, bool)",
            ["tmp_table_size", "max_heap_table_size"]
        ),
        ("init_rr_cache(THD*, READ_RECORD*)", ["read_rnd_buffer_size"]),
        ("my_net_init(st_net*, Vio*, void*, unsigned int)", ["net_buffer_length"]),
        ("net_realloc(st_net*, unsigned long)", ["net_buffer_length", "max_allowed_packet"]),
        ("THD::binlog_setup_trx_data()", ["binlog_cache_size", "binlog_stmt_cache_size"]),
        ("buf_pool_t::create()", ["innodb_buffer_pool_size"]),
        ("init_key_cache", ["key_buffer_size"]),
    ])
    func defaultMapNamesTheVariable(function: String, variables: [String]) {
        #expect(Self.map.rule(forFunction: function)?.variables == variables, "\(function)")
    }

    @Test func framesWithoutNamesOrWithOtherNamesMatchNothing() throws {
        #expect(Self.map.rule(for: try #require(CodeFrame(text: "0x5A1B2C: ??? (in /usr/sbin/mariadbd)"))) == nil)
        #expect(Self.map.rule(forFunction: "my_filesort_helper") == nil)
        #expect(Self.map.rule(forFunction: "Xhp_write") == nil)
    }

    @Test func theFrameNearestTheAllocationDecides() throws {
        // create_tmp_table calls the heap engine: the heap's blocks are the tmp table's rows.
        let tree = HeapTree(
            bytes: 9000,
            children: [
                HeapNode(
                    bytes: 8000,
                    frame: code("0x1: my_malloc (in /usr/sbin/mariadbd)"),
                    children: [
                        HeapNode(
                            bytes: 6000,
                            frame: code(
                                "0x2: hp_get_new_block(st_hp_share*, HP_BLOCK*, unsigned long*) (hp_block.c:40)"
                            ),
                            children: [
                                HeapNode(bytes: 6000, frame: code("0x3: create_tmp_table(THD*) (sql_select.cc:1)"))
                            ]
                        ),
                        HeapNode(
                            bytes: 2000,
                            frame: code(
                                "0x4: Filesort_buffer::alloc_sort_buffer(unsigned int, unsigned int) (filesort_utils.cc:9)"
                            )
                        ),
                    ]
                ),
                HeapNode(bytes: 1000, frame: code("0x5: something_else() (x.cc:1)")),
            ]
        )
        let totals = tree.bytesBySizingVariable()
        #expect(totals.map(\.rule.pattern) == ["hp_*", "Filesort_buffer::*"])
        #expect(totals.map(\.bytes) == [6000, 2000])
        let path = try [
            #require(CodeFrame(text: "0x2: hp_write_key(HP_INFO*) (hp_write.c:1)")),
            #require(CodeFrame(text: "0x3: create_tmp_table(THD*) (sql_select.cc:1)")),
        ]
        #expect(Self.map.attribute(path)?.frame.function == "hp_write_key(HP_INFO*)")
    }

    @Test func usersExtendTheMapFromAFileAndTheirRulesComeFirst() throws {
        let rules = try ServerVariableMap.parse(
            """
            # my storage engine
            my_engine_alloc_* = my_engine_buffer_size   # row buffer

              filesort = sort_buffer_size, max_sort_length
            """,
            fileName: "vars.map"
        )
        #expect(rules.count == 2)
        #expect(rules[0] == ServerVariableMap.Rule("my_engine_alloc_*", ["my_engine_buffer_size"], note: "row buffer"))
        let map = ServerVariableMap.mariadbDefault.adding(rules)
        #expect(map.rule(forFunction: "my_engine_alloc_rows(int)")?.variables == ["my_engine_buffer_size"])
        #expect(map.rule(forFunction: "filesort(THD*)")?.variables == ["sort_buffer_size", "max_sort_length"])
        #expect(map.rule(forFunction: "JOIN_CACHE::alloc_buffer()")?.variables.first == "join_buffer_size")
    }

    @Test(arguments: [
        (
            "filesort sort_buffer_size\n",
            "vars.map:1:1: expected \"PATTERN = VARIABLE[, VARIABLE...]\", got \"filesort sort_buffer_size\""
        ),
        ("# ok\n = sort_buffer_size\n", "vars.map:2:2: expected a function pattern before \"=\""),
        (
            "filesort = sort buffer\n",
            "vars.map:1:12: expected a server variable name (letters, digits, _), got \"sort buffer\""
        ),
        ("filesort = a,,b\n", "vars.map:1:14: expected a server variable name (letters, digits, _), got end of line"),
        ("filesort =\n", "vars.map:1:11: expected a server variable name"),
    ])
    func badMapLinesSayWhereAndWhat(text: String, message: String) {
        do {
            let rules = try ServerVariableMap.parse(text, fileName: "vars.map")
            Issue.record("parsed \(rules) instead of failing")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error)")
        }
    }
}
