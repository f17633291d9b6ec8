/// A manifest that cannot be read, with what to do about it.
public enum RunRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON is not a manifest (or not JSON).
    case malformed(path: String, reason: String)
    /// The manifest has no schema, or one that is not `snapctl.run/N`.
    case unknownSchema(path: String, schema: String?)
    /// The manifest was written by a newer snapctl.
    case newerSchema(path: String, schema: String, supported: String)

    public var description: String {
        switch self {
        case .malformed(let path, let reason):
            return
                "\(path): not a snapctl run manifest: \(reason); check that it is the manifest.json of a run directory"
        case .unknownSchema(let path, let schema):
            let found = schema.map { "'\($0)'" } ?? "no schema key"
            return "\(path): unknown manifest schema (\(found)); snapctl reads '\(RunManifest.currentSchema)'"
        case .newerSchema(let path, let schema, let supported):
            return
                "\(path): written by a newer snapctl (schema '\(schema)'; this one reads up to '\(supported)'); upgrade snapctl"
        }
    }
}
