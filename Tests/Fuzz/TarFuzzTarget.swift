/// libFuzzer entry for the tar reader: any bytes as a tar stream, then the bundle rules on its entries.
/// Built by scripts/fuzz with the Bundle target's archive sources; an input must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let limits = ArchiveLimits(totalBytes: 1 << 20, entries: 1000, entryBytes: 1 << 20)
    if let entries = try? TarReader.entries(bytes, limits: limits) {
        _ = try? BundleArchive.check(entries)
    }
    return 0
}
