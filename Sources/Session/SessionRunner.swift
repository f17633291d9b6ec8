import Foundation
import Massif
import MySQLServer
import Plan
import Report
import RunRecord
import Valgrind

/// One run of a plan: owns the server, the monitor session, the connections and the record, and is the
/// only writer of the run directory.
///
/// An actor because the `during` timer takes snapshots while the step's SQL runs on its own connection
/// thread; both append to the same record.
actor SessionRunner {
    /// What to run; an interactive run adds the connections it opens to `options.plan.connections`.
    var options: SessionOptions
    let directory: RunDirectory
    var manifest: RunManifest
    /// Parsed snapshot files by snapshot id: the trees the report compares, and the timeline's parts.
    var files: [Int: MassifFile] = [:]
    var nextSnapshotID = 1
    /// When the manifest was last written.
    var lastPersisted = ContinuousClock.now
    var server: ProfiledServer?
    var monitor: MonitorSession?
    var observer: Connection?
    var connections: [String: Connection] = [:]
    /// Set once the server is known to be dead, with the report of its death.
    var serverDeath: String?
    /// The result of the last statement the last step ran, for an interactive run to show.
    var lastQueryResult: QueryResult?
    /// The steps an interactive run performed, in order, as plan steps (what `save-plan` writes).
    var performedSteps: [Plan.Step] = []
    /// Set when an interactive run starts finishing, so that the server's shutdown is not taken for a death.
    var finishing = false
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant
    let log: LogWriter

    var plan: Plan { options.plan }

    init(options: SessionOptions, directory: RunDirectory) {
        self.options = options
        self.directory = directory
        self.started = ContinuousClock.now
        self.log = LogWriter(path: directory.absolute(RunLayout.snapctlLog))
        var budgets = RunManifest.Budgets(
            maxHeap: options.plan.budget.maxHeap?.bytes,
            leakMinGrowth: options.plan.leak.minGrowth.bytes,
            leakMinRoundsFraction: options.plan.leak.minRoundsFraction
        )
        for step in options.plan.steps {
            if let limit = step.maxGrowth { budgets.maxGrowth[step.label] = limit.bytes }
        }
        manifest = RunManifest(
            tool: RunManifest.Tool(version: options.toolVersion, arguments: options.arguments),
            plan: RunManifest.PlanInfo(
                name: options.plan.name,
                description: options.plan.description,
                source: options.planSource
            ),
            startedAt: RunDirectory.iso8601(),
            budgets: budgets,
            steps: options.plan.steps.enumerated().map {
                Self.initialRecord(index: $0.offset + 1, step: $0.element, plan: options.plan)
            }
        )
    }

    static func initialRecord(index: Int, step: Plan.Step, plan: Plan) -> StepRecord {
        var record = StepRecord(index: index, label: step.label, kind: step.kind.key, repeat: step.repeat)
        switch step.kind {
        case .sql(let statements):
            record.sql = statements
            record.connection = plan.connection(for: step)?.name
        case .sqlFile(let file):
            record.sql = file.statements
            record.file = file.path
            record.connection = plan.connection(for: step)?.name
        case .parallel(let parallel):
            record.sql = parallel.statements
            record.parallelConnections = parallel.connections
            record.connection = plan.connection(for: step)?.name
        case .shell(let command):
            record.command = command
        case .snap, .sleep:
            break
        }
        return record
    }

    /// Seconds since the run started.
    func elapsed() -> Double { (ContinuousClock.now - started).seconds }

    func emit(_ event: SessionEvent) { options.events(event) }

    func warn(_ message: String) {
        manifest.warnings.append(message)
        log.write("warning: " + message)
        emit(.warning(message))
    }

    /// Writes the manifest as it stands, so that a run killed outright still leaves its record.
    func persistManifest() {
        lastPersisted = ContinuousClock.now
        manifest.snapshots.sort { $0.id < $1.id }
        if let problem = directory.write(RunLayout.manifest, manifest.jsonData()) { log.write("error: " + problem) }
    }

    // MARK: - The run

    /// Runs the plan; never throws: every failure ends up in the record. The caller runs ``finalise()``.
    func run() async -> Ending {
        log.write("snapctl session \(options.planSource) -> \(directory.path)")
        if let problem = directory.write(RunLayout.planFile, text: options.planText) { warn(problem) }
        persistManifest()
        emit(.runDirectory(directory.path))

        if let ending = await start() { return ending }

        for (position, step) in plan.steps.enumerated() {
            if Task.isCancelled {
                return Ending(
                    status: .interrupted,
                    message: "interrupted before step '\(step.label)'",
                    step: step.label
                )
            }
            if let death = serverDeath {
                return Ending(status: .serverDied, message: death, step: step.label)
            }
            emit(.stepStarted(index: position + 1, count: plan.steps.count, label: step.label))
            log.write("step \(position + 1) '\(step.label)' (\(step.kind.key))")
            let outcome = await runStep(position, step)
            // After every step, but at most a few times a second: rewriting a manifest of hundreds of steps
            // after each one would cost more than the steps. Failures and the end are always written.
            if !outcome.isSuccess || ContinuousClock.now - lastPersisted >= .milliseconds(250) { persistManifest() }
            let record = manifest.steps[position]
            log.write("step \(position + 1) '\(step.label)': \(outcome.rawValue)")
            switch outcome {
            case .ok, .expectedError, .notRun:
                continue
            case .interrupted:
                return Ending(
                    status: .interrupted,
                    message: "interrupted during step '\(step.label)'",
                    step: step.label
                )
            case .serverDied:
                return Ending(
                    status: .serverDied,
                    message: serverDeath ?? record.error?.message ?? "the server died",
                    step: step.label
                )
            case .failed, .timedOut:
                return Ending(
                    status: .stepFailed,
                    message: "step '\(step.label)' \(outcome == .timedOut ? "timed out" : "failed")"
                        + (record.error.map { ": " + $0.message } ?? ""),
                    step: step.label
                )
            }
        }
        if Task.isCancelled { return Ending(status: .interrupted, message: "interrupted after the last step") }
        _ = await snapshot(step: "end", phase: .final, round: nil, kind: .detailed)
        return Ending(status: .completed)
    }

    /// How the run ended, before finalisation turns it into an outcome and an exit status.
    struct Ending: Sendable {
        var status: RunManifest.RunStatus
        var message: String? = nil
        var step: String? = nil
        /// For `start_failed`: 2 for an environment problem, 1 for bad input, 4 otherwise.
        var exitCode: Int32? = nil
    }

    // MARK: - Start

    /// Starts or attaches to the server, opens the observer and the monitor, runs init_sql; returns an
    /// ending when any of that fails.
    func start() async -> Ending? {
        switch plan.target {
        case .server(let settings):
            let flavor: ServerFlavor? =
                switch settings.flavor {
                case .auto: nil
                case .mariadb: .mariadb
                case .mysql: .mysql
                }
            let launch = LaunchOptions(
                runDirectory: directory.path,
                serverBinary: settings.binary ?? (settings.flavor == .mysql ? "mysqld" : "mariadbd"),
                flavor: flavor,
                serverOptions: settings.options,
                massifOptions: plan.massif.valgrindOptions,
                startupTimeout: settings.startupTimeout.duration,
                searchPath: options.searchPath,
                environment: settings.environment
            )
            let events = options.events
            let log = self.log
            do {
                let managed = try await ManagedServer.launch(launch) { progress in
                    log.write("launch: \(progress)")
                    events(.launch(progress))
                }
                server = .managed(managed)
                manifest.server = RunManifest.ServerInfo(
                    mode: "managed",
                    flavor: managed.flavor.rawValue,
                    version: managed.version.description,
                    binary: managed.binary.path,
                    pid: managed.valgrindPID,
                    valgrindCommand: [managed.valgrindCommand.valgrind] + managed.valgrindCommand.arguments,
                    valgrindVersion: managed.valgrind.version.description,
                    startupSeconds: managed.startupDuration.seconds,
                    pagesAsHeap: plan.massif.pagesAsHeap,
                    allocators: Self.allocatorRecords(managed.allocators),
                    sonameSynonyms: managed.sonameSynonymsOption
                )
                noteAllocators(managed.allocators, added: managed.sonameSynonymsOption, attached: nil)
            } catch {
                return startFailure(error)
            }
        case .attach(let attach):
            let target: ConnectionTarget =
                switch attach.endpoint {
                case .socket(let path): .socket(path: path)
                case .tcp(let host, let port): .tcp(host: host, port: port)
                case nil: .socket(path: "/run/mysqld/mysqld.sock")
                }
            let attachOptions = AttachOptions(
                pid: attach.pid,
                vgdbPrefix: attach.vgdbPrefix ?? AttachOptions.defaultVgdbPrefix,
                target: target,
                user: attach.user,
                passwordEnvironmentVariable: attach.passwordEnv,
                requirePagesAsHeap: plan.massif.pagesAsHeap
            )
            do {
                let attached = try await AttachedServer.attach(attachOptions, environment: options.environment)
                let password = attach.passwordEnv.flatMap { environmentValue($0) }
                server = .attached(attached, password: password)
                manifest.server = RunManifest.ServerInfo(
                    mode: "attached",
                    flavor: attached.flavor.rawValue,
                    version: attached.serverVersion,
                    pid: attached.valgrindPID,
                    pagesAsHeap: attached.valgrindCommandLine.map(AttachedServer.hasPagesAsHeap),
                    allocators: Self.allocatorRecords(attached.allocators)
                )
                noteAllocators(attached.allocators, added: nil, attached: attached)
            } catch {
                return startFailure(error)
            }
        }
        guard let server else { return Ending(status: .startFailed, message: "no server", exitCode: 4) }
        persistManifest()

        let observer: Connection
        do {
            observer = try await server.connectObserver()
            self.observer = observer
        } catch {
            let explained = await server.explain(error)
            return Ending(status: .startFailed, message: "observer connection: \(explained)", exitCode: 4)
        }
        // The facts are context for the report (version, envelope); a failure to read them is a warning.
        do {
            let facts = try await ServerFacts.read(from: observer)
            manifest.server?.version = facts.version
            manifest.server?.memoryVariables = facts.variables
            manifest.server?.envelope = RunManifest.Envelope(
                globalBuffers: facts.envelope.globalBuffers,
                perSession: facts.envelope.perSession,
                maxConnections: facts.envelope.maxConnections,
                total: facts.envelope.total
            )
        } catch {
            let explained = await server.explain(error)
            if case .serverDied = explained {
                return Ending(status: .serverDied, message: explained.description, exitCode: 4)
            }
            warn("the server's memory variables could not be read: \(explained)")
        }

        do {
            monitor = try await MonitorSession.connect(pid: server.pid, prefix: server.vgdbPrefix)
        } catch {
            let code: Int32 =
                switch error {
                case .vgdbUnavailable, .timedOut, .lockHeld: 2
                default: 4
                }
            return Ending(status: .startFailed, message: "vgdb monitor: \(error)", exitCode: code)
        }
        persistManifest()
        emit(.serverReady(pid: server.pid, version: manifest.server?.version ?? "", seconds: elapsed()))

        if case .server(let settings) = plan.target, !settings.initSQL.isEmpty {
            do {
                let connection = try await server.connect(
                    name: "snapctl-init",
                    user: "root",
                    password: nil,
                    database: nil
                )
                defer { Task { await connection.close() } }
                for statement in settings.initSQL {
                    _ = try await connection.execute(statement)
                }
            } catch {
                let explained = await server.explain(error)
                return Ending(status: .startFailed, message: "init_sql failed: \(explained)", exitCode: 4)
            }
        }
        if Task.isCancelled { return Ending(status: .interrupted, message: "interrupted while starting") }
        return nil
    }

    func startFailure(_ error: ServerError) -> Ending {
        let code: Int32
        switch error {
        case .cancelled:
            return Ending(status: .interrupted, message: "interrupted while the server was starting")
        case .serverBinaryMissing, .unrecognisedServer, .initialiserMissing, .valgrindMissing, .vgdbMissing,
            .valgrindVersionUnreadable:
            code = 2
        case .socketPathTooLong, .passwordVariableUnset, .noSuchProcess, .noVgdbFIFO, .preloadMissing,
            .pagesAsHeapNotEnabled:
            code = 1
        default:
            code = 4
        }
        return Ending(status: .startFailed, message: error.description, exitCode: code)
    }

    func environmentValue(_ name: String) -> String? {
        if let environment = options.environment { return environment[name] }
        return ProcessInfo.processInfo.environment[name]
    }
}

/// Appends timestamped lines to `logs/snapctl.log`.
final class LogWriter: Sendable {
    private let handle: FileHandle?

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    func write(_ line: String) {
        try? handle?.write(contentsOf: Data((RunDirectory.iso8601() + " " + line + "\n").utf8))
    }

    func close() { try? handle?.close() }
}
