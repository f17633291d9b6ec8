import Foundation
import Testing

@testable import MySQLServer

@Suite struct AllocatorDetectionTests {
    @Test func classifiesLibraryNames() {
        #expect(AllocatorDetector.classify("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2") == .jemalloc)
        #expect(AllocatorDetector.classify("libtcmalloc_minimal.so.4") == .tcmalloc)
        #expect(AllocatorDetector.classify("libtcmalloc_minimal_debug.so.4") == .tcmalloc)
        #expect(AllocatorDetector.classify("/opt/lib/libmimalloc.so.2") == .unknown)
        #expect(AllocatorDetector.classify("libhoard.so") == .unknown)
        #expect(AllocatorDetector.classify("libc.so.6") == nil)
        #expect(AllocatorDetector.classify("/usr/libexec/valgrind/vgpreload_massif-amd64-linux.so") == nil)
    }

    @Test func synonymsFollowTheAllocatorAndYieldToTheUsers() {
        let je = AllocatorDetection(kind: .jemalloc, library: "libjemalloc.so.2", source: .preload)
        let tc = AllocatorDetection(kind: .tcmalloc, library: "libtcmalloc.so.4", source: .neededLibrary)
        #expect(je.massifOption == "--soname-synonyms=somalloc=*jemalloc*")
        #expect(tc.massifOption == "--soname-synonyms=somalloc=*tcmalloc*")
        #expect(AllocatorDetector.massifOptions(for: [je], userOptions: []) == [je.massifOption!])
        // A preload wins at run time over a linked allocator: its synonym is the one given.
        #expect(AllocatorDetector.massifOptions(for: [tc, je], userOptions: []) == [je.massifOption!])
        #expect(AllocatorDetector.massifOptions(for: [je], userOptions: ["--soname-synonyms=somalloc=NONE"]).isEmpty)
        let unknown = AllocatorDetection(kind: .unknown, library: "libmimalloc.so", source: .preload)
        #expect(unknown.massifOption == nil)
        #expect(AllocatorDetector.massifOptions(for: [unknown], userOptions: []).isEmpty)
    }

    @Test func readsPreloadListsAndMaps() {
        #expect(
            AllocatorDetector.preloadLibraries("/a/libjemalloc.so.2:libfoo.so  libbar.so") == [
                "/a/libjemalloc.so.2", "libfoo.so", "libbar.so",
            ]
        )
        let maps = """
            55d0c0a00000-55d0c0b00000 r--p 00000000 08:01 1234 /usr/sbin/mariadbd
            7f10a0000000-7f10a0021000 rw-p 00000000 00:00 0
            7f10b0000000-7f10b0010000 r-xp 00000000 08:01 99 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
            7f10b0010000-7f10b0020000 r--p 00010000 08:01 99 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
            """
        let found = AllocatorDetector.detect(libraries: AllocatorDetector.mappedLibraries(maps: maps), source: .maps)
        #expect(
            found == [
                AllocatorDetection(
                    kind: .jemalloc,
                    library: "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                    source: .maps
                )
            ]
        )
    }

    @Test func readsNeededLibrariesOfRealBinaries() throws {
        let needed = ELFSymbols.neededLibraries("/usr/sbin/mariadbd")
        #expect(needed.contains("libc.so.6"), "\(needed)")
        #expect(AllocatorDetector.detect(binary: "/usr/sbin/mariadbd", environment: [:]).isEmpty)
        #expect(ELFSymbols.neededLibraries("/etc/hostname").isEmpty)
        #expect(ELFSymbols.neededLibraries("/nonexistent").isEmpty)
        let preloaded = AllocatorDetector.detect(
            binary: "/usr/sbin/mariadbd",
            environment: ["LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"]
        )
        #expect(preloaded.map(\.kind) == [.tcmalloc])
        #expect(preloaded.first?.source == .preload)
    }

    @Test func aMissingPreloadIsRefusedNamingIt() throws {
        try AllocatorDetector.checkPreload(environment: ["LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"])
        try AllocatorDetector.checkPreload(environment: ["LD_PRELOAD": "libjemalloc.so.2"])
        #expect {
            try AllocatorDetector.checkPreload(environment: ["LD_PRELOAD": "/nowhere/libjemalloc.so.9"])
        } throws: { error in
            "\(error)".contains("LD_PRELOAD in server.env names /nowhere/libjemalloc.so.9, which does not exist")
        }
        #expect {
            try AllocatorDetector.checkPreload(environment: ["LD_PRELOAD": "libnosuch-malloc.so.1"])
        } throws: { error in
            "\(error)".contains("names libnosuch-malloc.so.1") && "\(error)".contains("/usr/lib/x86_64-linux-gnu")
        }
    }

    @Test func findsPagesAsHeapOnValgrindsOwnOptionsOnly() {
        #expect(AttachedServer.hasPagesAsHeap(["valgrind.bin", "--tool=massif", "--pages-as-heap=yes", "mariadbd"]))
        #expect(!AttachedServer.hasPagesAsHeap(["valgrind.bin", "--tool=massif", "mariadbd", "--pages-as-heap=yes"]))
        #expect(!AttachedServer.hasPagesAsHeap(["valgrind.bin", "--pages-as-heap=yes", "--pages-as-heap=no", "x"]))
    }

    @Test func findsFullXTreeMemoryOnValgrindsOwnOptionsOnly() {
        #expect(
            AttachedServer.hasFullXTreeMemory(["valgrind.bin", "--tool=massif", "--xtree-memory=full", "mariadbd"])
        )
        #expect(!AttachedServer.hasFullXTreeMemory(["valgrind.bin", "--xtree-memory=allocs", "mariadbd"]))
        #expect(
            !AttachedServer.hasFullXTreeMemory(["valgrind.bin", "--tool=massif", "mariadbd", "--xtree-memory=full"])
        )
        #expect(
            !AttachedServer.hasFullXTreeMemory(["valgrind.bin", "--xtree-memory=full", "--xtree-memory=none", "x"])
        )
    }

    @Test func theBufferPoolMaximumFollowsTheUsersPool() {
        #expect(FlavorAdapter.userValue(of: "innodb-buffer-pool-size", in: ["--innodb_buffer_pool_size=96M"]) == "96M")
        #expect(
            FlavorAdapter.userValue(of: "innodb-buffer-pool-size", in: ["--loose-innodb-buffer-pool-size=1G"]) == "1G"
        )
        #expect(FlavorAdapter.userValue(of: "innodb-buffer-pool-size", in: ["--innodb-buffer-pool-size-max=2G"]) == nil)
    }

    @Test func doctorWarnsAboutAnAllocatorItDoesNotKnow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapctl-alloc-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = directory.appendingPathComponent("libmimalloc.so.2").path
        FileManager.default.createFile(atPath: library, contents: Data())
        let unknown = ServerDoctor.allocatorCheck(binary: "/usr/sbin/mariadbd", preload: [library])
        #expect(unknown.status == .warn)
        #expect(unknown.detail.contains("an allocator snapctl does not know"))
        #expect(unknown.fix?.contains("--soname-synonyms=somalloc=") == true)
        #expect(unknown.fix?.contains("massif.options") == true)
        let je = ServerDoctor.allocatorCheck(binary: "/usr/sbin/mariadbd", preload: ["libjemalloc.so.2"])
        #expect(je.status == .pass)
        #expect(je.detail.contains("snapctl adds --soname-synonyms=somalloc=*jemalloc*"))
        let plain = ServerDoctor.allocatorCheck(binary: "/usr/sbin/mariadbd", preload: [])
        #expect(plain.status == .pass && plain.detail.contains("C library's malloc"))
        let missing = ServerDoctor.allocatorCheck(binary: "/usr/sbin/mariadbd", preload: ["/nope/libjemalloc.so.2"])
        #expect(missing.status == .fail && missing.detail.contains("/nope/libjemalloc.so.2"))
    }
}
