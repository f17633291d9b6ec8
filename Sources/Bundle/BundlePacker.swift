import Crypto
import Foundation
import RunRecord

#if canImport(Glibc)
import Glibc
#endif

/// `snapctl bundle pack`: a run directory read, composed into a bundle, written as one `.tar.gz`.
public enum BundlePacker {
    /// What to pack and how.
    public struct Options: Sendable {
        /// The run directory.
        public var runDirectory: String
        /// The bundle file; `nil` means `<run directory>.tar.gz` beside it.
        public var output: String?
        public var redactLiterals: Bool
        public var toolVersion: String
        /// The packing machine; ``MachineFacts/current()`` unless a test gives another.
        public var machine: MachineFacts?

        public init(
            runDirectory: String,
            output: String? = nil,
            redactLiterals: Bool = false,
            toolVersion: String = SnapctlVersion.current,
            machine: MachineFacts? = nil
        ) {
            self.runDirectory = runDirectory
            self.output = output
            self.redactLiterals = redactLiterals
            self.toolVersion = toolVersion
            self.machine = machine
        }
    }

    /// What was written.
    public struct Result: Sendable {
        /// The bundle file.
        public var output: String
        /// Its size in bytes.
        public var size: Int
        /// Files in the bundle (README.txt, env.json and SHA256SUMS included).
        public var fileCount: Int
        /// The bundle's top-level folder.
        public var top: String
        public var redactedVariables: [String]
        public var hostNameReplaced: Bool
        /// Things worth knowing: a run that never finished, files changed since the run.
        public var warnings: [String]
        /// What was redacted, by file, line and kind.
        public var findings: [SecretScrubber.Finding]
    }

    /// Packs a run directory.
    public static func pack(_ options: Options) throws(BundleError) -> Result {
        var directory = options.runDirectory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notARun(path: directory, reason: "no such directory")
        }
        guard FileManager.default.fileExists(atPath: directory + "/" + RunLayout.manifest) else {
            throw .notARun(path: directory, reason: "it has no \(RunLayout.manifest)")
        }
        let contents = try BundleSource.readDirectory(directory) { relative in
            // The server's private folder and half-written files are not part of the record.
            (relative != RunLayout.checksums && !RunLayout.isChecksummed(relative)) || relative.hasSuffix(".tmp")
        }
        let absolute =
            directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        let top = absolute.split(separator: "/").last.map(String.init) ?? absolute
        var warnings: [String] = []
        for (path, kind) in contents.others { warnings.append("\(path) left out: a \(kind), not a regular file") }
        warnings += changedSinceRun(contents.files)

        let archiveName: String
        let output: String
        if let requested = options.output {
            output = requested
        } else {
            output = directory + ".tar.gz"
        }
        archiveName = output.split(separator: "/").last.map(String.init) ?? output
        let now = Date()
        let composed = try BundleComposer.compose(
            PackRequest(
                top: top,
                files: contents.files,
                archiveName: archiveName,
                redactLiterals: options.redactLiterals,
                toolVersion: options.toolVersion,
                machine: options.machine ?? MachineFacts.current(),
                packedAt: iso8601(now)
            )
        )
        if composed.manifest.outcome.status == .running {
            warnings.append(
                "the run was never finalised (outcome 'running'): snapctl was stopped before the end; the bundle holds what it had recorded"
            )
        }
        let bytes = BundleArchive.make(top: composed.top, files: composed.files, time: Int(now.timeIntervalSince1970))
        try writeAtomically(bytes, to: output)
        return Result(
            output: output,
            size: bytes.count,
            fileCount: composed.files.count,
            top: composed.top,
            redactedVariables: composed.redactedVariables,
            hostNameReplaced: composed.hostNameReplaced,
            warnings: warnings,
            findings: composed.findings
        )
    }

    /// Files whose bytes no longer match the run's own SHA256SUMS.
    static func changedSinceRun(_ files: [String: [UInt8]]) -> [String] {
        guard let sums = files[RunLayout.checksums] else { return ["the run has no \(RunLayout.checksums)"] }
        var warnings: [String] = []
        for line in String(decoding: sums, as: UTF8.self).split(separator: "\n") {
            guard let (digest, path) = BundleVerifier.parseChecksumLine(line) else { continue }
            if let bytes = files[path], SHA256.hex(bytes) != digest {
                warnings.append("\(path) changed since the run wrote \(RunLayout.checksums); it is packed as it is now")
            }
        }
        return warnings
    }

    /// Writes through a temporary name and a rename, so a half-written bundle never has the final name.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(BundleError) {
        let temporary = path + ".tmp-\(getpid())"
        // Private from the first byte: a bundle holds the run's SQL, results and logs.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        fchmod(descriptor, 0o600)
        do throws(BundleError) {
            defer { close(descriptor) }
            try BundleExtractor.writeAll(bytes, to: descriptor, path: path)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .unwritable(path: path, reason: reason)
        }
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
