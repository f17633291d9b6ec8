import Foundation
import Report
import RunRecord

/// Reads a run directory from disk as the report reads it (``LoadedRun``): `snapctl report`, and
/// anything else that renders a finished or running run.
public enum RunLoader {
    /// Reads `directory/manifest.json` and every snapshot file it names.
    ///
    /// - Throws: ``RunLoadError`` when the manifest is missing or unreadable; missing or unreadable
    ///   snapshot files are the result's ``LoadedRun/problems``.
    public static func load(_ directory: String) throws(RunLoadError) -> LoadedRun {
        let path = directory + "/" + RunLayout.manifest
        guard let data = FileManager.default.contents(atPath: path) else { throw .noManifest(path: path) }
        do {
            return try LoadedRun.assemble(manifestBytes: [UInt8](data), path: path) { relative in
                FileManager.default.contents(atPath: directory + "/" + relative).map { [UInt8]($0) }
            }
        } catch {
            throw .manifest(error)
        }
    }
}

/// Why a run directory could not be read.
public enum RunLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `manifest.json` where one was expected.
    case noManifest(path: String)
    /// The manifest could not be read.
    case manifest(RunRecordError)

    public var description: String {
        switch self {
        case .noManifest(let path): return "\(path): no such file; give a run directory written by snapctl session"
        case .manifest(let error): return error.description
        }
    }
}
