/// libFuzzer entry for the massif parser and what is computed from a parsed file (diff, merge, summary
/// figures, the print of its packed trees), through public API only. Built by scripts/fuzz with the Massif
/// sources; must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMassif(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    printPacked(bytes)
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

/// What `snapctl massif print` does with a file: packed snapshots into a printer, at two thresholds.
func printPacked(_ bytes: [UInt8]) {
    var parser = MassifParser(fileName: "fuzz")
    parser.feed(bytes)
    parser.endInput()
    var printers: [MassifPrinter] = []
    while let event = try? parser.nextPacked() {
        switch event {
        case .header(let header):
            printers = [0.0, 1.0].map { MassifPrinter(header: header, options: MassifRenderer.Options(threshold: $0)) }
        case .snapshot(let snapshot):
            for index in printers.indices { printers[index].add(snapshot) }
        }
    }
    for printer in printers { _ = printer.finish() }
}
