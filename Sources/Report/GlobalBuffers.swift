import Massif

/// The server's global buffers set beside the pages Massif measured under the code that maps them.
///
/// With `--pages-as-heap=yes` every mapped page is attributed to the call stack of the `mmap` (or `brk`)
/// that mapped it, so the InnoDB buffer pool, the key cache and the Aria page cache each show up under the
/// server function that allocates them. Which function that is depends on the server's version; the lists
/// below hold the names of MariaDB's and MySQL's allocation paths. A frame counts only when valgrind can
/// name it: on a stripped binary without debug symbols, only functions in the dynamic symbol table have
/// names (`my_large_malloc`, `init_key_cache`, `init_pagecache`, `my_large_virtual_alloc` are exported by
/// mariadbd; `buf_pool_t::create` and `log_t::create` are not), so a buffer whose path has no named frame is
/// reported as not attributable rather than guessed.
public struct GlobalBufferMeasurement: Sendable, Hashable, Codable {
    /// The server variable, e.g. `innodb_buffer_pool_size`.
    public var variable: String
    /// Its configured value in bytes, when the server's variables were read.
    public var configured: UInt64?
    /// The pages measured under the code that maps it: the sum over ``sites``; `nil` when no named frame
    /// of its allocation path is in the tree.
    public var measured: Int?
    /// The functions matched and the bytes under each, largest first.
    public var sites: [FunctionBytes]

    /// A function of an allocation path and the pages under it.
    public struct FunctionBytes: Sendable, Hashable, Codable {
        public var function: String
        public var bytes: Int

        enum CodingKeys: String, CodingKey {
            case function
            case bytes = "bytes_B"
        }
    }

    enum CodingKeys: String, CodingKey {
        case variable, sites
        case configured = "configured_B"
        case measured = "measured_B"
    }
}

/// Finds the global buffers in a pages-as-heap tree.
public enum GlobalBuffers {
    /// A group of pages: a server variable (or a kind of mapping that is not one) and the functions whose
    /// frames mark it. The first named frame from the `mmap` outwards that is in a list claims the pages.
    public struct Signature: Sendable, Hashable {
        public var variable: String
        public var functions: [String]
    }

    /// The global buffers and the functions that map them (MariaDB 10.x/11.x and MySQL 8).
    public static let signatures: [Signature] = [
        Signature(
            variable: "innodb_buffer_pool_size",
            functions: [
                "buf_pool_t::create", "buf_pool_t::resize", "buf_chunk_init", "buf_pool_init",
                // MariaDB 10.11.9 and later reserve the pool's address range, then commit it.
                "my_large_virtual_alloc", "my_virtual_mem_commit",
            ]
        ),
        Signature(
            variable: "innodb_log_buffer_size",
            functions: ["log_t::create", "log_t::attach", "log_t::resize", "log_buffer_extend", "log_sys_init"]
        ),
        Signature(
            variable: "key_buffer_size",
            functions: ["init_key_cache", "resize_key_cache", "init_simple_key_cache"]
        ),
        Signature(variable: "query_cache_size", functions: ["Query_cache::init_cache", "Query_cache::resize"]),
        Signature(variable: "aria_pagecache_buffer_size", functions: ["init_pagecache", "resize_pagecache"]),
    ]

    /// Mappings that are not a server variable but explain the rest of the pages.
    public static let otherMappings: [Signature] = [
        Signature(
            variable: "malloc heap (arenas and brk)",
            functions: ["arena_get2", "_int_new_arena", "new_heap", "sysmalloc", "sbrk", "brk"]
        ),
        Signature(variable: "thread stacks", functions: ["allocate_stack", "pthread_create"]),
        Signature(
            variable: "loaded code and data",
            functions: ["_dl_map_segments", "_dl_map_object", "_dl_map_segment"]
        ),
    ]

    /// Whether a demangled function name is `name` (with or without its parameter list).
    static func matches(_ function: String, _ name: String) -> Bool {
        function == name || (function.hasPrefix(name) && function.dropFirst(name.count).first == "(")
    }

    /// The pages under each signature of `signatures` in `tree`; each stack is claimed by the first
    /// signature function met from the `mmap` outwards, so no page counts twice.
    public static func attribute(_ tree: HeapTree, signatures: [Signature]) -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        var pending: [HeapNode] = tree.children
        while let node = pending.popLast() {
            if let function = node.frame.code?.function,
                let signature = signatures.first(where: { $0.functions.contains { matches(function, $0) } })
            {
                result[signature.variable, default: [:]][function, default: 0] &+= node.bytes
                continue
            }
            pending.append(contentsOf: node.children)
        }
        return result
    }

    /// Every global buffer variable of ``signatures`` the server has (or that was measured), with what was
    /// measured for it.
    public static func measure(_ tree: HeapTree, variables: [String: UInt64]) -> [GlobalBufferMeasurement] {
        let found = attribute(tree, signatures: signatures)
        return signatures.compactMap { signature in
            let sites = (found[signature.variable] ?? [:]).map {
                GlobalBufferMeasurement.FunctionBytes(function: $0.key, bytes: $0.value)
            }.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.function < $1.function }
            let configured = variables[signature.variable]
            guard configured != nil || !sites.isEmpty else { return nil }
            return GlobalBufferMeasurement(
                variable: signature.variable,
                configured: configured,
                measured: sites.isEmpty ? nil : sites.reduce(0) { $0 &+ $1.bytes },
                sites: sites
            )
        }
    }
}
