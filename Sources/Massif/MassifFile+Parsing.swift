extension MassifFile {
    /// Reads a whole massif file held in memory. See `MassifParser` for how strict it is.
    ///
    /// - Parameter fileName: used in error messages only.
    public static func parse(_ bytes: [UInt8], fileName: String) throws(MassifError) -> MassifFile {
        var parser = MassifParser(fileName: fileName)
        parser.feed(bytes)
        parser.endInput()
        return try parser.collect()
    }

    /// Reads a whole massif file held in a string.
    public static func parse(_ text: String, fileName: String) throws(MassifError) -> MassifFile {
        try parse(Array(text.utf8), fileName: fileName)
    }
}

extension MassifParser {
    /// Drains the parser into a `MassifFile`; call after `endInput()`.
    public mutating func collect() throws(MassifError) -> MassifFile {
        var header: MassifHeader?
        var snapshots: [Snapshot] = []
        while let event = try next() {
            switch event {
            case .header(let value): header = value
            case .snapshot(let snapshot): snapshots.append(snapshot)
            }
        }
        guard let header else {
            // Unreachable after endInput(): next() throws before the header is complete.
            throw MassifError(fileName: fileName, line: nil, expected: "a header", found: "end of input")
        }
        return MassifFile(header: header, snapshots: snapshots)
    }
}
