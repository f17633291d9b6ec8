import Foundation

extension RunManifest {
    /// The manifest as pretty-printed JSON with sorted keys, so that two runs diff cleanly.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Every field is a plain value; encoding cannot fail (a NaN duration is the only way, and is
        // replaced by 0 on the way in).
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// Reads a manifest, refusing schemas it does not know and newer ones.
    ///
    /// The schema is checked before the rest is decoded, so a newer manifest is refused with a message
    /// that says so instead of a decoding error about some field that changed.
    /// - Parameter path: how errors name the file.
    public static func decode(_ data: Data, path: String) throws(RunRecordError) -> RunManifest {
        struct SchemaOnly: Decodable { var schema: String? }
        let schema: String?
        do {
            schema = try JSONDecoder().decode(SchemaOnly.self, from: data).schema
        } catch {
            throw .malformed(path: path, reason: describe(error))
        }
        guard let schema, schema.hasPrefix(schemaFamily), let version = Int(schema.dropFirst(schemaFamily.count))
        else {
            throw .unknownSchema(path: path, schema: schema)
        }
        if version > currentSchemaVersion {
            throw .newerSchema(path: path, schema: schema, supported: currentSchema)
        }
        do {
            return try JSONDecoder().decode(RunManifest.self, from: data)
        } catch {
            throw .malformed(path: path, reason: describe(error))
        }
    }

    /// A decoding error as one line: the coding path and what was wrong.
    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing key '\(pathText(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context)?:
            return "'\(pathText(context.codingPath))' is not a \(type)"
        case .valueNotFound(let type, let context)?:
            return "'\(pathText(context.codingPath))' is null, expected a \(type)"
        case .dataCorrupted(let context)?:
            let place = context.codingPath.isEmpty ? "" : "'\(pathText(context.codingPath))': "
            return place + context.debugDescription
        default:
            return "\(error)"
        }
    }

    private static func pathText(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
