import Crypto
import Foundation
import Plan
import Report
import RunRecord

/// What ``BundleComposer/compose(_:)`` packs.
public struct PackRequest: Sendable {
    /// The run directory's name, which becomes the bundle's top-level folder.
    public var top: String
    /// The run directory's files by relative path (the server's private folder and the run's own
    /// SHA256SUMS left out).
    public var files: [String: [UInt8]]
    /// The bundle's file name, for the commands in README.txt.
    public var archiveName: String
    /// `--redact-literals`.
    public var redactLiterals: Bool
    /// The packing snapctl's version.
    public var toolVersion: String
    /// The packing machine: what to say about it, and what to keep out.
    public var machine: MachineFacts
    /// ISO 8601 UTC.
    public var packedAt: String

    public init(
        top: String,
        files: [String: [UInt8]],
        archiveName: String,
        redactLiterals: Bool,
        toolVersion: String,
        machine: MachineFacts,
        packedAt: String
    ) {
        self.top = top
        self.files = files
        self.archiveName = archiveName
        self.redactLiterals = redactLiterals
        self.toolVersion = toolVersion
        self.machine = machine
        self.packedAt = packedAt
    }
}

/// The bundle's contents, ready to archive.
public struct ComposedBundle: Sendable {
    /// The top-level folder, redacted.
    public var top: String
    /// Every file, SHA256SUMS, README.txt and env.json included, by path relative to `top`.
    public var files: [String: [UInt8]]
    /// Variables whose values were found and replaced.
    public var redactedVariables: [String]
    /// Whether a host name was found and replaced.
    public var hostNameReplaced: Bool
    public var manifest: RunManifest
    /// What was replaced, by file and line.
    public var findings: [SecretScrubber.Finding] = []
}

/// Turns a run directory's files into a bundle's: README.txt and env.json added, literals (on request),
/// host names and environment values replaced, SHA256SUMS over everything. Pure.
public enum BundleComposer {
    public static func compose(_ request: PackRequest) throws(BundleError) -> ComposedBundle {
        var files = request.files
        files[RunLayout.checksums] = nil
        guard let manifestBytes = files[RunLayout.manifest] else {
            throw .notARun(path: request.top, reason: "it has no \(RunLayout.manifest)")
        }
        var manifest: RunManifest
        do {
            manifest = try RunManifest.decode(Data(manifestBytes), path: request.top + "/" + RunLayout.manifest)
        } catch {
            throw .notARun(path: request.top, reason: error.description)
        }

        var report: RunReport
        if request.redactLiterals {
            (files, manifest, report) = try LiteralRedaction.apply(files: files, manifest: manifest, file: request.top)
        } else if let data = files[RunLayout.reportJSON],
            let decoded = try? JSONDecoder().decode(
                RunReport.self,
                from: Data(data)
            )
        {
            report = decoded
        } else {
            report = RunReport.make(manifest: manifest, snapshots: [:])
        }

        let redactor = Redactor.forMachine(
            hostNames: request.machine.hostNames,
            environment: request.machine.environment,
            secretNames: passwordVariables(files[RunLayout.planFile]),
            planEnvironment: serverEnvironment(files[RunLayout.planFile])
        )
        let scrubber = SecretScrubber(redactor: redactor)
        var findings: [SecretScrubber.Finding] = []
        for (path, bytes) in files { findings += scrubber.scrub(bytes, path: path).findings }
        var found = Set(findings.compactMap { $0.kind.hasPrefix("value of $") ? String($0.kind.dropFirst(10)) : nil })
        for path in files.keys { found.formUnion(redactor.matches(in: Array(path.utf8))) }
        found.formUnion(redactor.matches(in: Array(request.top.utf8)))
        let hostNameReplaced = found.remove("host name") != nil || findings.contains { $0.kind == "host name" }
        let variables = found.sorted()

        manifest.redaction = RunManifest.Redaction(
            literals: request.redactLiterals,
            hostPlaceholder: Redactor.hostPlaceholder,
            environmentVariables: variables
        )
        files[RunLayout.manifest] = [UInt8](manifest.jsonData())

        let environment = BundleEnvironment(
            packedAt: request.packedAt,
            snapctl: BundleEnvironment.Snapctl(version: request.toolVersion, runVersion: manifest.tool.version),
            valgrind: manifest.server.flatMap { server in
                server.valgrindVersion.map {
                    BundleEnvironment.Valgrind(version: $0, command: server.valgrindCommand)
                }
            },
            server: manifest.server.map {
                BundleEnvironment.Server(flavor: $0.flavor, version: $0.version, mode: $0.mode, binary: $0.binary)
            },
            os: request.machine.operatingSystem,
            cpu: request.machine.cpu,
            environment: EnvironmentAllowList.filter(request.machine.environment),
            literalsRedacted: request.redactLiterals,
            redactedVariables: variables,
            hostPlaceholder: Redactor.hostPlaceholder
        )
        files[BundleLayout.environment] = environmentJSON(environment)
        files[BundleLayout.readme] = Array(
            BundleReadme.text(
                manifest: manifest,
                report: report,
                environment: environment,
                archiveName: request.archiveName
            ).utf8
        )

        var redacted: [String: [UInt8]] = [:]
        findings = []
        for (path, bytes) in files {
            let (scrubbed, found) = scrubber.scrub(bytes, path: path)
            findings += found.map { SecretScrubber.Finding(path: redactor.apply(path), line: $0.line, kind: $0.kind) }
            redacted[redactor.apply(path)] = scrubbed
        }
        let top = redactor.apply(request.top)
        // The last check: a secret value still there (where scrubbing looks) stops the bundle.
        for (path, bytes) in redacted {
            let left =
                Set(
                    scrubber.scrub(bytes, path: path).findings.compactMap {
                        $0.kind.hasPrefix("value of $") ? String($0.kind.dropFirst(10)) : nil
                    }
                )
                .union(redactor.matches(in: Array(path.utf8)).filter { $0 != "host name" })
            if !left.isEmpty { throw .secretLeft(path: path, sources: left.sorted()) }
        }
        if !redactor.matches(in: Array(top.utf8)).isEmpty {
            throw .secretLeft(path: top, sources: redactor.matches(in: Array(top.utf8)))
        }
        redacted[RunLayout.checksums] = Array(
            Checksums.text(redacted.map { (path: $0.key, digest: SHA256.hex($0.value)) }).utf8
        )
        return ComposedBundle(
            top: top,
            files: redacted,
            redactedVariables: variables,
            hostNameReplaced: hostNameReplaced,
            manifest: manifest,
            findings: findings.sorted()
        )
    }

    /// The variables plan.yaml names with `password_env:`: their values are secret whatever they are.
    static func passwordVariables(_ plan: [UInt8]?) -> Set<String> {
        guard let plan else { return [] }
        var names: Set<String> = []
        for line in String(decoding: plan, as: UTF8.self).split(separator: "\n") {
            guard let range = line.range(of: "password_env:") else { continue }
            let value = line[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'{},"))
            let name = value.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { names.insert(String(name)) }
        }
        return names
    }

    /// The `env:` a run's plan gave its servers, for redacting the secret-named ones; a plan that does not
    /// load (it did when the run started, so this is a damaged run directory) gives none, and the name-based
    /// rules still apply to the packing environment.
    static func serverEnvironment(_ plan: [UInt8]?) -> [String: String] {
        guard let plan else { return [:] }
        let text = String(decoding: plan, as: UTF8.self)
        guard let loaded = try? Plan.load(yaml: text, fileName: "plan.yaml", options: .init(requireSteps: false))
        else { return [:] }
        // A replica's primary has an `env:` of its own, redacted the same way.
        return (loaded.target.server?.environment ?? [:])
            .merging(loaded.primary?.server?.environment ?? [:]) { server, _ in server }
    }

    static func environmentJSON(_ environment: BundleEnvironment) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(environment)).map { [UInt8]($0) } ?? Array("{}".utf8)) + [10]
    }
}
