/// libFuzzer entry for the gzip layer: any bytes inflated in chunks, and streamed through the tar reader
/// as a bundle is. Built by scripts/fuzz; an input must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    _ = try? Gzip.decompress(bytes, limit: 4 << 20)
    var stream = TarStream(GzipSource(MemorySource(bytes)), limits: ArchiveLimits(totalBytes: 4 << 20, entries: 1000))
    while let entry = try? stream.next() {
        if case .file = entry.kind {
            while let chunk = try? stream.readData(maximum: 4096), !chunk.isEmpty {}
        }
    }
    return 0
}
