import Massif
import RunRecord
import Testing

@testable import Report

@Suite struct FlameGraphTests {
    static func frame(_ text: String) -> Frame { .code(CodeFrame(text: text)!) }

    @Test func drawsGrowthAsFramesAsWideAsTheirBytes() throws {
        let stacks = [
            CollapsedStack(frames: ["(heap allocation functions)", "main", "handle<T>&", "my_malloc"], bytes: 750),
            CollapsedStack(frames: ["(heap allocation functions)", "main", "other"], bytes: 250),
            CollapsedStack(frames: ["(heap allocation functions)", "main", "shrinker"], bytes: -400),
        ]
        let graph = try #require(FlameGraph(stacks: stacks))
        #expect(graph.root.bytes == 1000)
        #expect(graph.rows == 3)
        let svg = graph.svg(label: "growth of <step>")
        #expect(svg.hasPrefix("<svg class=\"flame\" role=\"img\" aria-label=\"growth of &lt;step&gt;\""))
        // main spans the whole width; handle<T>& three quarters of it; the shrinking stack is not drawn.
        #expect(svg.contains("<rect x=\"0\" y=\"0\" width=\"999.5\""))
        #expect(
            svg.contains("<title>handle&lt;T&gt;&amp;\n+750 B (75.0%)</title><rect x=\"0\" y=\"17\" width=\"749.5\"")
        )
        #expect(svg.contains("<title>other\n+250 B (25.0%)</title><rect x=\"750\" y=\"17\""))
        #expect(!svg.contains("shrinker"))
        #expect(!svg.contains("<handle"))
        #expect(FlameGraph(stacks: [CollapsedStack(frames: ["r", "a"], bytes: -5)]) == nil)
    }

    @Test func narrowFramesAndDeepRowsAreLeftOut() throws {
        var stacks = [CollapsedStack(frames: ["root", "big"], bytes: 100_000)]
        stacks.append(CollapsedStack(frames: ["root", "tiny"], bytes: 10))
        stacks.append(CollapsedStack(frames: ["root"] + (0..<60).map { "f\($0)" }, bytes: 100_000))
        let graph = try #require(FlameGraph(stacks: stacks))
        let svg = graph.svg(label: "x")
        #expect(!svg.contains(">tiny<") && !svg.contains("<title>tiny"))
        #expect(graph.rows == 40)
        #expect(svg.contains("<title>f39\n") && !svg.contains("<title>f40\n"))
    }

    @Test func globalBuffersAreMeasuredUnderTheCodeThatMapsThem() {
        let mmap = Self.frame("0x1: mmap (mmap64.c:46)")
        let tree = HeapTree(
            top: .pageAllocationSyscalls,
            bytes: 400 << 20,
            children: [
                HeapNode(
                    bytes: 400 << 20,
                    frame: mmap,
                    children: [
                        HeapNode(
                            bytes: 96 << 20,
                            frame: Self.frame("0x2: my_large_virtual_alloc (in /usr/sbin/mariadbd)"),
                            children: [HeapNode(bytes: 96 << 20, frame: Self.frame("0x3: ??? (in /usr/sbin/mariadbd)"))]
                        ),
                        HeapNode(
                            bytes: 110 << 20,
                            frame: Self.frame("0x4: my_large_malloc (in /usr/sbin/mariadbd)"),
                            children: [
                                HeapNode(
                                    bytes: 100 << 20,
                                    frame: Self.frame("0x5: init_key_cache (in /usr/sbin/mariadbd)")
                                ),
                                HeapNode(bytes: 10 << 20, frame: Self.frame("0x6: ??? (in /usr/sbin/mariadbd)")),
                            ]
                        ),
                        HeapNode(
                            bytes: 64 << 20,
                            frame: Self.frame("0x7: alloc_new_heap (arena.c:518)"),
                            children: [
                                HeapNode(bytes: 64 << 20, frame: Self.frame("0x8: _int_new_arena (arena.c:744)"))
                            ]
                        ),
                    ]
                )
            ]
        )
        let variables: [String: UInt64] = [
            "innodb_buffer_pool_size": 96 << 20, "key_buffer_size": 128 << 20, "innodb_log_buffer_size": 16 << 20,
        ]
        let measured = GlobalBuffers.measure(tree, variables: variables)
        #expect(measured.map(\.variable) == ["innodb_buffer_pool_size", "innodb_log_buffer_size", "key_buffer_size"])
        #expect(measured[0].measured == 96 << 20)
        #expect(measured[0].sites.map(\.function) == ["my_large_virtual_alloc"])
        // The log buffer's path has no named frame here: not attributable, not guessed.
        #expect(measured[1].measured == nil && measured[1].configured == 16 << 20)
        #expect(measured[2].measured == 100 << 20)
        let others = GlobalBuffers.attribute(tree, signatures: GlobalBuffers.otherMappings)
        #expect(others["malloc heap (arenas and brk)"]?["_int_new_arena"] == 64 << 20)
        #expect(GlobalBuffers.matches("buf_pool_t::create()", "buf_pool_t::create"))
        #expect(!GlobalBuffers.matches("buf_pool_t::create_x()", "buf_pool_t::create"))
    }
}
