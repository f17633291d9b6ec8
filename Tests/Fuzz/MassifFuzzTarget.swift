/// libFuzzer entry for the massif parser and what is computed from a parsed file (diff, merge, summary
/// figures), through public API only. Built by scripts/fuzz with the Massif sources; must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMassif(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let file = try? MassifFile.parse(bytes, fileName: "fuzz") else { return 0 }
    _ = file.serialized()
    for (before, after) in zip(file.snapshots, file.snapshots.dropFirst()) {
        _ = SnapshotDiff(before: before, after: after)
    }
    for snapshot in file.snapshots {
        _ = snapshot.totalBytes
        if let tree = snapshot.tree {
            _ = tree.exclusiveBytes
            _ = tree.functionTotals()
            _ = tree.topSites(5)
        }
    }
    _ = try? MassifFile.merge([file, file, file])
    return 0
}
