/// Which functions are allocator wrappers, so that growth is attributed to the first real caller.
///
/// Massif's tree starts at `malloc`/`operator new`; in MariaDB and MySQL the first frame below is nearly always
/// `my_malloc`, `alloc_root` or InnoDB's `ut_allocator`, which says nothing about who wanted the memory. Folding
/// removes those frames and puts their callers in their place (`HeapTree.folded(by:)`).
///
/// A name matches a function when it equals the function's name with parameter lists and template arguments
/// removed (`ut_allocator<unsigned char, true>::allocate(unsigned long, ...)` is `ut_allocator::allocate`), or is
/// a prefix of it up to `::` (`ut_allocator` folds every member), or is its last `::` component.
public struct AllocatorFolding: Sendable, Hashable, Codable {
    /// The wrapper names.
    public var functions: Set<String>

    public init(functions: Set<String>) {
        self.functions = functions
    }

    /// Folds nothing: the tree as Massif wrote it.
    public static let none = AllocatorFolding(functions: [])

    /// The wrappers of MariaDB and MySQL (mysys, MEM_ROOT, InnoDB's heaps and allocators, the SQL layer's arena
    /// helpers, dynamic arrays and strings), as seen in real `mariadbd` trees.
    public static let mariadbDefault = AllocatorFolding(functions: [
        // mysys
        "my_malloc", "my_realloc", "my_multi_malloc", "my_multi_malloc_large", "my_large_malloc", "my_strdup",
        "my_strndup", "my_memdup", "my_once_alloc", "my_once_strdup", "my_once_memdup", "my_raw_malloc",
        "my_raw_realloc", "my_std_malloc",
        // MEM_ROOT
        "alloc_root", "multi_alloc_root", "memdup_root", "strdup_root", "strmake_root", "reset_root_defaults",
        "MEM_ROOT::Alloc", "MEM_ROOT::AllocSlow", "MEM_ROOT::AllocBlock", "Memroot_allocator",
        // SQL layer arenas
        "sql_alloc", "sql_calloc", "sql_strdup", "sql_strmake", "sql_memdup", "Sql_alloc::operator new",
        "Sql_alloc::operator new[]", "Query_arena::alloc", "Query_arena::calloc", "Query_arena::memdup",
        "Query_arena::strdup", "Query_arena::strmake", "THD::alloc", "THD::calloc", "THD::memdup", "THD::strdup",
        "THD::strmake",
        // containers and strings
        "alloc_dynamic", "allocate_dynamic", "insert_dynamic", "init_dynamic_array2", "Binary_string::real_alloc",
        "Binary_string::realloc_raw", "Binary_string::realloc", "String::real_alloc", "String::realloc",
        // InnoDB
        "ut_allocator", "ut_malloc_nokey", "ut_zalloc_nokey", "ut_realloc", "mem_heap_create_block_func",
        "mem_heap_create_block", "mem_heap_add_block", "mem_heap_alloc", "mem_heap_zalloc", "mem_heap_dup",
        "mem_heap_strdup", "mem_heap_strdupl", "mem_heap_create_func", "ut::detail", "ut::malloc_withkey",
        "ut::zalloc_withkey", "ut::realloc_withkey", "ut::new_withkey", "ut::new_arr_withkey",
        "ut::aligned_alloc_withkey", "Stateless_allocator",
    ])

    /// This folding plus more wrapper names (a user's own allocators).
    public func adding(_ names: some Sequence<String>) -> AllocatorFolding {
        AllocatorFolding(functions: functions.union(names))
    }

    /// True when the frame's function is one of the wrappers. Unknown frames (`???`) never are.
    public func isWrapper(_ frame: CodeFrame) -> Bool {
        guard !functions.isEmpty, !frame.isUnknown else { return false }
        let name = Self.baseName(frame.function)
        if functions.contains(name) { return true }
        var components = name.split(separator: "::", omittingEmptySubsequences: false)
        if let last = components.last, functions.contains(String(last)) { return true }
        while components.count > 1 {
            components.removeLast()
            if functions.contains(components.joined(separator: "::")) { return true }
        }
        return false
    }

    /// A function name without its parameter list and template arguments.
    public static func baseName(_ function: String) -> String {
        var result = ""
        var angle = 0
        for character in function {
            switch character {
            case "<": angle += 1
            case ">": angle = max(0, angle - 1)
            case "(" where angle == 0 && !result.isEmpty && !result.hasSuffix("operator"):
                return result
            default:
                if angle == 0 { result.append(character) }
            }
        }
        return result.isEmpty ? function : result
    }
}
