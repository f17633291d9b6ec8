import Crypto
import Foundation
import RunRecord

/// One thing wrong with a bundle, naming the file.
public enum BundleProblem: Error, Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The file's bytes do not hash to what SHA256SUMS says.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// A file that SHA256SUMS lists or the manifest names is not there.
    case missing(path: String, namedIn: String)
    /// A file that SHA256SUMS does not list.
    case extra(path: String)
    /// An entry that is not a regular file (a link).
    case notAFile(path: String, kind: String)
    /// SHA256SUMS itself is missing.
    case checksumsMissing
    /// A line of SHA256SUMS that is not `<64 hex digits>  <path>`.
    case checksumsMalformed(line: Int, text: String)
    /// manifest.json or env.json cannot be read.
    case unreadable(path: String, reason: String)
    /// The bundle was written by a newer snapctl.
    case newerSchema(path: String, schema: String, supported: String)

    public var description: String {
        switch self {
        case .checksumMismatch(let path, let expected, let actual):
            return
                "\(path): checksum mismatch (SHA256SUMS says \(expected.prefix(16))..., the file hashes to \(actual.prefix(16))...); it was changed after packing"
        case .missing(let path, let namedIn) where namedIn == BundleVerifier.everyBundle:
            return
                "\(path): missing; every bundle has one (is this a run directory? pack it with snapctl bundle pack)"
        case .missing(let path, let namedIn):
            return "\(path): missing (listed in \(namedIn))"
        case .extra(let path):
            return "\(path): extra file, not listed in SHA256SUMS; it was added after packing"
        case .notAFile(let path, let kind):
            return "\(path): a \(kind), not a regular file; bundles hold only files"
        case .checksumsMissing:
            return "\(RunLayout.checksums): missing; the bundle cannot be checked"
        case .checksumsMalformed(let line, let text):
            return
                "\(RunLayout.checksums):\(line): not a '<sha256>  <path>' line: '\(text.prefix(80))'; the file was damaged or edited"
        case .unreadable(let path, let reason):
            return "\(path): \(reason)"
        case .newerSchema(_, let schema, let supported):
            return
                "this bundle was written by a newer snapctl (schema \(schema); this snapctl reads \(supported)): upgrade snapctl"
        }
    }

    /// Sorted by the file they name, so the list reads in the order of `ls`.
    public static func < (lhs: BundleProblem, rhs: BundleProblem) -> Bool {
        lhs.sortKey < rhs.sortKey
    }

    var sortKey: String {
        switch self {
        case .checksumMismatch(let path, _, _), .missing(let path, _), .extra(let path), .notAFile(let path, _),
            .unreadable(let path, _), .newerSchema(let path, _, _):
            return path
        case .checksumsMissing: return RunLayout.checksums
        case .checksumsMalformed(let line, _):
            var number = String(line)
            while number.count < 8 { number = "0" + number }
            return RunLayout.checksums + ":" + number
        }
    }
}

/// The answer of ``BundleVerifier/verify(files:others:)``.
public struct BundleVerification: Sendable {
    /// Everything wrong, sorted by file; empty for a good bundle.
    public var problems: [BundleProblem]
    /// How many files had their checksum checked and matched.
    public var verifiedFiles: Int
    /// The manifest, when it could be read.
    public var manifest: RunManifest?
    /// env.json, when it could be read.
    public var environment: BundleEnvironment?

    public var isValid: Bool { problems.isEmpty }
}

/// Checks a bundle's contents: every checksum of SHA256SUMS, no file missing or extra, the manifest
/// and env.json readable and of a schema this snapctl knows, every file the manifest names present.
///
/// Pure: it works on the bytes of the files, however they were read (from an archive or a folder).
public enum BundleVerifier {
    /// The files every bundle has besides those the manifest names.
    public static let bundleFiles = [BundleLayout.readme, BundleLayout.environment]
    /// What ``BundleProblem/missing(path:namedIn:)`` says for those.
    public static let everyBundle = "every bundle"

    /// - Parameters:
    ///   - files: the regular files, by path relative to the bundle's folder.
    ///   - others: entries that are not regular files (links), with what they are.
    public static func verify(
        files: [String: [UInt8]],
        others: [(path: String, kind: String)] = []
    )
        -> BundleVerification
    {
        verify(
            digests: files.mapValues { SHA256.hex($0) },
            documents: files.filter { BundleSource.documentNames.contains($0.key) },
            others: others
        )
    }

    /// Verifies a bundle read by ``BundleSource``: every file's digest, the documents' contents.
    public static func verify(_ contents: BundleContents) -> BundleVerification {
        verify(digests: contents.digests, documents: contents.documents, others: contents.others)
    }

    /// - Parameters:
    ///   - digests: the SHA-256 of every regular file, by path relative to the bundle's folder.
    ///   - documents: manifest.json, env.json and SHA256SUMS, when present.
    ///   - others: entries that are not regular files (links), with what they are.
    public static func verify(
        digests: [String: String],
        documents files: [String: [UInt8]],
        others: [(path: String, kind: String)] = []
    ) -> BundleVerification {
        var problems: [BundleProblem] = []
        var result = BundleVerification(problems: [], verifiedFiles: 0)

        if let data = files[RunLayout.manifest] {
            do {
                result.manifest = try RunManifest.decode(Data(data), path: RunLayout.manifest)
            } catch {
                if case .newerSchema(_, let schema, let supported) = error {
                    // A newer layout may differ in every other way: say only this.
                    result.problems = [.newerSchema(path: RunLayout.manifest, schema: schema, supported: supported)]
                    return result
                }
                problems.append(.unreadable(path: RunLayout.manifest, reason: shortReason(error.description)))
            }
        }
        if let data = files[BundleLayout.environment] {
            switch decodeEnvironment(data) {
            case .success(let environment):
                result.environment = environment
            case .failure(let problem):
                if case .newerSchema = problem {
                    result.problems = [problem]
                    return result
                }
                problems.append(problem)
            }
        }

        var listed: Set<String> = []
        if let sums = files[RunLayout.checksums] {
            let text = String(decoding: sums, as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.isEmpty { continue }
                guard let (digest, path) = parseChecksumLine(line) else {
                    problems.append(.checksumsMalformed(line: number + 1, text: String(line)))
                    continue
                }
                listed.insert(path)
                guard let actual = digests[path] else {
                    problems.append(.missing(path: path, namedIn: RunLayout.checksums))
                    continue
                }
                if actual == digest {
                    result.verifiedFiles += 1
                } else {
                    problems.append(.checksumMismatch(path: path, expected: digest, actual: actual))
                }
            }
            for path in digests.keys where path != RunLayout.checksums && !listed.contains(path) {
                problems.append(.extra(path: path))
            }
        } else {
            problems.append(.checksumsMissing)
        }
        for (path, kind) in others { problems.append(.notAFile(path: path, kind: kind)) }

        // Files the bundle must have: those SHA256SUMS might have lost a line for.
        var required = [RunLayout.manifest, BundleLayout.readme, BundleLayout.environment]
        if let manifest = result.manifest {
            required += manifest.files + manifest.snapshots.map(\.file) + [manifest.plan.file]
        }
        var reported = Set(
            problems.compactMap { problem -> String? in
                if case .missing(let path, _) = problem { return path }
                return nil
            }
        )
        for path in required where digests[path] == nil && !reported.contains(path) {
            if path == RunLayout.checksums { continue }
            reported.insert(path)
            let namer =
                path == RunLayout.manifest || bundleFiles.contains(path)
                ? everyBundle : RunLayout.manifest
            problems.append(.missing(path: path, namedIn: namer))
        }
        result.problems = problems.sorted()
        return result
    }

    /// `<64 lowercase hex>  <path>` (or ` *<path>`, sha256sum's binary marker); `nil` otherwise, and for
    /// paths that are absolute or climb with `..`.
    static func parseChecksumLine(_ line: Substring) -> (digest: String, path: String)? {
        let bytes = Array(line.utf8)
        guard bytes.count > 66, bytes[64] == UInt8(ascii: " "),
            bytes[65] == UInt8(ascii: " ") || bytes[65] == UInt8(ascii: "*")
        else { return nil }
        let digest = String(decoding: bytes[0..<64], as: UTF8.self)
        guard digest.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        let path = String(decoding: bytes[66...], as: UTF8.self)
        if path.hasPrefix("/") || path.split(separator: "/").contains("..") { return nil }
        return (digest, path)
    }

    /// env.json decoded, its schema checked first.
    public static func decodeEnvironment(_ data: [UInt8]) -> Result<BundleEnvironment, BundleProblem> {
        struct SchemaOnly: Decodable { var schema: String? }
        let path = BundleLayout.environment
        guard let schema = try? JSONDecoder().decode(SchemaOnly.self, from: Data(data)).schema else {
            return .failure(.unreadable(path: path, reason: "not JSON with a 'schema' key"))
        }
        let family = BundleEnvironment.schemaFamily
        guard schema.hasPrefix(family), let version = Int(schema.dropFirst(family.count)) else {
            return .failure(
                .unreadable(
                    path: path,
                    reason: "unknown schema '\(schema)'; snapctl reads '\(BundleEnvironment.currentSchema)'"
                )
            )
        }
        if version > BundleEnvironment.currentSchemaVersion {
            return .failure(.newerSchema(path: path, schema: schema, supported: BundleEnvironment.currentSchema))
        }
        do {
            return .success(try JSONDecoder().decode(BundleEnvironment.self, from: Data(data)))
        } catch {
            return .failure(.unreadable(path: path, reason: describe(error)))
        }
    }

    /// A decoding error as one line: where and what.
    static func describe(_ error: any Error) -> String {
        func place(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "missing key '\(place(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context)?: return "'\(place(context.codingPath))' is not a \(type)"
        case .valueNotFound(let type, let context)?: return "'\(place(context.codingPath))' is null, not a \(type)"
        case .dataCorrupted(let context)?: return context.debugDescription
        default: return "\(error)"
        }
    }

    /// A manifest error without the leading path, which the problem already names.
    static func shortReason(_ text: String) -> String {
        let prefix = RunLayout.manifest + ": "
        return text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
    }
}

/// Names of the files a bundle adds to a run directory.
public enum BundleLayout {
    /// What happened, in prose and figures, and the command that reproduces it.
    public static let readme = "README.txt"
    /// Versions, operating system, CPU, the allowed environment.
    public static let environment = "env.json"
}
