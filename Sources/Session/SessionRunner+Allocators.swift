import MySQLServer
import RunRecord

extension SessionRunner {
    /// The manifest's record of the allocators found; `nil` when there are none.
    static func allocatorRecords(_ allocators: [AllocatorDetection]) -> [RunManifest.Allocator]? {
        guard !allocators.isEmpty else { return nil }
        return allocators.map {
            RunManifest.Allocator(kind: $0.kind.rawValue, library: $0.library, source: $0.source.rawValue)
        }
    }

    /// Says in the run log (and, when Massif cannot see the allocator's blocks, as a warning) which malloc
    /// the server runs on and what snapctl did about it.
    func noteAllocators(_ allocators: [AllocatorDetection], added: String?, attached: AttachedServer?) {
        for allocator in allocators {
            switch (allocator.kind, added, attached) {
            case (.unknown, _, _):
                warn(
                    "the server runs on \(allocator.summary), an allocator snapctl does not know: Massif sees "
                        + "none of its blocks; set --soname-synonyms=somalloc=<its soname pattern> in massif.options"
                )
            case (_, let option?, nil):
                log.write("allocator: \(allocator.summary); added \(option) to Massif's options")
            case (_, nil, let server?) where !server.hasSonameSynonyms:
                warn(
                    "the attached server runs on \(allocator.summary) but valgrind was started without "
                        + "--soname-synonyms, so Massif sees none of its blocks; restart it with "
                        + "\(allocator.massifOption ?? "--soname-synonyms")"
                )
            default:
                log.write("allocator: \(allocator.summary); massif.options set --soname-synonyms")
            }
        }
    }
}
