import Foundation
import Plan
import RunRecord
import Session

#if canImport(Glibc)
import Glibc
#endif

/// `snapctl replay`: a bundle checked, unpacked safely, its plan run again on this machine with the
/// recorded server options, and each step's heap change compared with the recording.
public enum Replay {
    /// What to replay and how.
    public struct Options: Sendable {
        /// The bundle: a `.tar.gz` or an unpacked folder.
        public var bundle: String
        /// The new run directory; `nil` means `runs/replay-<plan name>-<UTC time>`.
        public var out: String?
        public var tolerance: ReplayTolerance
        public var toolVersion: String
        public var arguments: [String]
        /// A `PATH` to search for valgrind and the server instead of the process's own.
        public var searchPath: String?
        /// Environment for `password_env` and shell steps; the process's own when `nil`.
        public var environment: [String: String]?
        /// Accept a plan that sets `server.env` (`--allow-env`): it can load a library into the server.
        public var allowServerEnvironment = false
        /// What the user allows beyond the safe default (shell steps, other server options).
        public var permissions: ReplayPermissions
        /// How much the bundle may unpack to.
        public var limits: ArchiveLimits
        /// Called with what the bundle's plan will do (``ReplayConsent/disclosure(plan:planText:)``),
        /// before the permissions are checked and before anything runs.
        public var disclosed: @Sendable ([String]) -> Void
        /// Called before the session starts, with the checked bundle; for the command's first lines.
        public var checked: @Sendable (Checked) -> Void
        /// Progress of the replayed session.
        public var events: @Sendable (SessionEvent) -> Void

        public init(
            bundle: String,
            out: String? = nil,
            tolerance: ReplayTolerance = ReplayTolerance(),
            toolVersion: String = SnapctlVersion.current,
            arguments: [String] = [],
            searchPath: String? = nil,
            environment: [String: String]? = nil,
            permissions: ReplayPermissions = ReplayPermissions(),
            limits: ArchiveLimits = ArchiveLimits(),
            disclosed: @escaping @Sendable ([String]) -> Void = { _ in },
            checked: @escaping @Sendable (Checked) -> Void = { _ in },
            events: @escaping @Sendable (SessionEvent) -> Void = { _ in }
        ) {
            self.bundle = bundle
            self.out = out
            self.tolerance = tolerance
            self.toolVersion = toolVersion
            self.arguments = arguments
            self.searchPath = searchPath
            self.environment = environment
            self.permissions = permissions
            self.limits = limits
            self.disclosed = disclosed
            self.checked = checked
            self.events = events
        }
    }

    /// The bundle once verified, before anything runs.
    public struct Checked: Sendable {
        public var manifest: RunManifest
        public var plan: Plan
        /// How many files matched SHA256SUMS.
        public var verifiedFiles: Int
        /// Where the new run goes.
        public var runDirectory: String
    }

    /// What a replay found.
    public struct Outcome: Sendable {
        /// The recording's manifest.
        public var recorded: RunManifest
        /// The replayed session.
        public var session: SessionResult
        public var comparison: ReplayComparison
        /// Differences in the setup that can explain different figures (server or valgrind version).
        public var warnings: [String]

        /// 0 when the headline reproduced, 3 when not; the session's own status (2 environment not
        /// ready, 130 interrupted) when it could not run.
        public var exitCode: Int32 {
            switch session.exitCode {
            case 2, 130: return session.exitCode
            case 1 where session.manifest.outcome.status == .startFailed: return 1
            default: return comparison.reproduced ? 0 : 3
            }
        }
    }

    /// Verifies, unpacks, runs and compares.
    ///
    /// - Throws: ``BundleError`` for a bundle that cannot be replayed (unreadable, unsafe, failing
    ///   verification, packed with `--redact-literals`, attached, without any heap change recorded)
    ///   and for a run directory that cannot be used; everything after the session starts is in the
    ///   outcome.
    public static func run(_ options: Options) async throws(BundleError) -> Outcome {
        let bundle = options.bundle
        let limits = options.limits
        let contents = try await OffPool.run { () throws(BundleError) -> BundleContents in
            try BundleSource.read(bundle, limits: limits)
        }
        let verification = BundleVerifier.verify(contents)
        guard verification.isValid, let recorded = verification.manifest else {
            throw .verificationFailed(file: bundle, problems: verification.problems)
        }
        if recorded.redaction?.literals == true || verification.environment?.replayable == false {
            throw .notReplayable(file: bundle)
        }
        if let server = recorded.server, server.mode == "attached" {
            throw .attachedRun(file: bundle, pid: server.pid)
        }

        // The plan is the verified document, read before anything is unpacked or run.
        guard let planBytes = contents.documents[RunLayout.planFile] else {
            throw .unreadable(path: bundle + ":" + RunLayout.planFile, reason: "the bundle has no plan")
        }
        let planText = String(decoding: planBytes, as: UTF8.self)
        var plan = try BundlePlan.load(yaml: planText, manifest: recorded, file: bundle)
        if case .attach(let attach) = plan.target { throw .attachedRun(file: bundle, pid: attach.pid) }
        for environment in [plan.target.server?.environment, plan.primary?.server?.environment].compactMap({ $0 })
        where !environment.isEmpty && !options.allowServerEnvironment {
            throw .serverEnvironment(file: bundle, names: environment.keys.sorted())
        }
        let comparable = ReplayComparison.compare(recorded: recorded, replayed: recorded, tolerance: options.tolerance)
        guard comparable.headline != nil else { throw .nothingToCompare(file: bundle) }

        // Consent: say what the bundle will do, then refuse what the user has not allowed, before any
        // file is unpacked and before any server starts.
        options.disclosed(ReplayConsent.disclosure(plan: plan, planText: planText))
        let refusals = ReplayConsent.refusals(plan: plan, planText: planText, permissions: options.permissions)
        guard refusals.isEmpty else { throw .consentNeeded(file: bundle, refusals: refusals) }

        // A file is unpacked into a private temporary folder by a second read, entry by entry, through
        // the checks of BundleArchive.
        var scratch: String?
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let folder: String
        if let archive = contents.archive {
            let temporary = try makeTemporaryDirectory()
            scratch = temporary
            let digests = contents.digests
            folder = try await OffPool.run { () throws(BundleError) -> String in
                try BundleExtractor.extract(
                    file: bundle,
                    checked: archive,
                    digests: digests,
                    into: temporary,
                    limits: limits
                )
            }
        } else {
            folder = contents.directory ?? bundle
        }
        if case .server(var server) = plan.target {
            if let binary = options.permissions.serverBinary { server.binary = binary }
            // Last on the command line, so that no option before it can turn networking back on; and
            // LOAD_FILE, LOAD DATA and SELECT INTO OUTFILE confined to the unpacked bundle.
            server.options += ["--secure-file-priv=\(folder)", "--skip-networking"]
            plan.target = .server(server)
        }
        if var primary = plan.primary, case .server(var server) = primary.source {
            if let binary = options.permissions.serverBinary { server.binary = binary }
            // The primary listens on the loopback address only: snapctl puts --bind-address and --port
            // after every option; its files are confined like the replica's.
            server.options += ["--secure-file-priv=\(folder)"]
            primary.source = .server(server)
            plan.primary = primary
        }

        let runDirectory: String
        do {
            runDirectory = try Session.prepare(
                runDirectory: options.out ?? Session.defaultRunDirectory(planName: "replay-" + plan.name)
            )
        } catch {
            throw .runDirectory(message: error.description)
        }
        options.checked(
            Checked(
                manifest: recorded,
                plan: plan,
                verifiedFiles: verification.verifiedFiles,
                runDirectory: runDirectory
            )
        )
        let sessionOptions = SessionOptions(
            plan: plan,
            planText: planText,
            planSource: bundle + ":" + RunLayout.planFile,
            runDirectory: runDirectory,
            toolVersion: options.toolVersion,
            arguments: options.arguments,
            searchPath: options.searchPath,
            environment: options.environment,
            events: options.events
        )
        let session: SessionResult
        do {
            session = try await Session.run(sessionOptions)
        } catch {
            throw .runDirectory(message: error.description)
        }
        return Outcome(
            recorded: recorded,
            session: session,
            comparison: ReplayComparison.compare(
                recorded: recorded,
                replayed: session.manifest,
                tolerance: options.tolerance
            ),
            warnings: setupDifferences(recorded: recorded, replayed: session.manifest)
        )
    }

    /// Differences between the recording's setup and the replay's that change heap figures.
    public static func setupDifferences(recorded: RunManifest, replayed: RunManifest) -> [String] {
        guard let before = recorded.server, let after = replayed.server else { return [] }
        var warnings: [String] = []
        if before.flavor != after.flavor || before.version != after.version {
            warnings.append(
                "the server differs: recorded with \(before.flavor) \(before.version), replayed with \(after.flavor) \(after.version); heap figures may differ"
            )
        }
        if let old = before.valgrindVersion, let new = after.valgrindVersion, old != new {
            warnings.append(
                "valgrind differs: recorded with \(old), replayed with \(new); Massif's figures may differ"
            )
        }
        return warnings
    }

    static func makeTemporaryDirectory() throws(BundleError) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/snapctl-replay-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let start = buffer.baseAddress else { return false }
            return mkdtemp(start) != nil
        }
        guard made else {
            throw .unwritable(path: base, reason: String(cString: strerror(errno)))
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
