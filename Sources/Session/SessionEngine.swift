import Foundation
import MySQLServer
import Plan
import Report
import RunRecord
import Valgrind

/// The parts of a run once its server is up: each owns its own state.
///
/// - ``ServerWatch``: whether the server is alive, and why not.
/// - ``Snapshotter``: the monitor and the observer connection; counters and snapshot files.
/// - ``StepExecutor``: the step connections; one step's work, rounds, timeout and outcome.
struct LiveRun: Sendable {
    let server: any ProfiledServer
    let watch: ServerWatch
    let snapshotter: Snapshotter
    let executor: StepExecutor
    /// Replication from the primary, when the profiled server is a replica.
    let replication: Replication?
}

/// What a start opened, so far: what finalisation closes (a start that fails halfway leaves a server to
/// stop and perhaps an observer to close).
struct Opened: Sendable {
    var server: (any ProfiledServer)?
    var watch: ServerWatch?
    var observer: (any SQLSession)?
    var monitor: (any HeapMonitor)?
    var executor: StepExecutor?
    /// The primary of a profiled replica, and the replication connections.
    var primary: (any PrimaryServer)?
    var replication: Replication?
}

/// One run of a plan: starts the server, runs steps through the parts, and finalises. The run's record
/// is the ``RunRecorder``'s; this type only sequences.
///
/// Scripted runs call ``run()``; an interactive run (``InteractiveSession``) calls ``start()`` and then
/// ``perform(_:)`` one step at a time.
actor SessionEngine {
    let options: SessionOptions
    let effects: SessionEffects
    let recorder: RunRecorder
    /// Every part once the server is up and the monitor open.
    private(set) var live: LiveRun?
    /// What the start opened, even when it failed halfway.
    private var opened = Opened()

    init(options: SessionOptions, directory: RunDirectory, effects: SessionEffects = .live) {
        self.options = options
        self.effects = effects
        var budgets = RunManifest.Budgets(
            maxHeap: options.plan.budget.maxHeap?.bytes,
            leakMinGrowth: options.plan.leak.minGrowth.bytes,
            leakMinRoundsFraction: options.plan.leak.minRoundsFraction
        )
        for step in options.plan.steps {
            if let limit = step.maxGrowth { budgets.maxGrowth[step.label] = limit.bytes }
            budgets.add(step.lensBudget, step: step.label)
        }
        let manifest = RunManifest(
            tool: RunManifest.Tool(version: options.toolVersion, arguments: options.arguments),
            plan: RunManifest.PlanInfo(
                name: options.plan.name,
                description: options.plan.description,
                source: options.planSource
            ),
            startedAt: RunDirectory.iso8601(),
            budgets: budgets,
            steps: options.plan.steps.enumerated().map {
                StepRecord(
                    planned: $0.element,
                    index: $0.offset + 1,
                    connection: options.plan.connection(for: $0.element)?.name
                )
            }
        )
        self.recorder = RunRecorder(manifest: manifest, directory: directory, events: options.events)
    }

    var plan: Plan { options.plan }

    // MARK: A scripted run

    /// Runs the plan; never throws: every failure ends up in the record. The caller runs ``finalise(_:)``.
    func run() async -> Ending {
        recorder.log.write("snapctl session \(options.planSource) -> \(recorder.directory.path)")
        if let problem = recorder.directory.write(RunLayout.planFile, text: options.planText) {
            await recorder.warn(problem)
        }
        await recorder.persist()
        recorder.emit(.runDirectory(recorder.directory.path))

        if let ending = await start() { return ending }
        guard let live else { return Ending(status: .startFailed, message: "no server", exitCode: 4) }

        for (position, step) in plan.steps.enumerated() {
            if Task.isCancelled {
                return Ending(
                    status: .interrupted,
                    message: "interrupted before step '\(step.label)'",
                    step: step.label
                )
            }
            if let death = live.watch.death {
                return Ending(status: .serverDied, message: death, step: step.label)
            }
            let record = await recorder.manifest.steps[position]
            let result = await perform(step, as: record, at: position, of: plan.steps.count)
            if let ending = StepRules.ending(after: result.record, death: live.watch.death) { return ending }
        }
        if Task.isCancelled { return Ending(status: .interrupted, message: "interrupted after the last step") }
        _ = await live.snapshotter.take(step: "end", phase: .final, round: nil, kind: .detailed)
        return Ending(status: .completed)
    }

    /// Runs one step through the executor, records it and reports it.
    func perform(_ step: Plan.Step, as record: StepRecord, at position: Int, of count: Int) async -> StepResult {
        guard let live else {
            var failed = record
            failed.outcome = .failed
            failed.error = StepError(message: "no server", expected: false)
            return StepResult(record: failed, snapshots: [])
        }
        recorder.emit(.stepStarted(index: record.index, count: count, label: step.label))
        recorder.log.write("step \(record.index) '\(step.label)' (\(step.kind.key))")
        let result = await live.executor.run(step, as: record)
        await recorder.recordStep(result.record, at: position)
        await recorder.persistAfterStep(failed: !result.outcome.isSuccess)
        recorder.log.write("step \(record.index) '\(step.label)': \(result.outcome.rawValue)")
        recorder.emit(
            .stepFinished(
                result.record,
                before: result.before,
                after: result.after,
                peak: result.peak,
                topSite: result.topSite
            )
        )
        if let lenses = result.lenses { recorder.emit(.stepLenses(lenses)) }
        return result
    }

    // MARK: Start

    /// Starts or attaches to the server, opens the observer and the monitor, runs init_sql; returns an
    /// ending when any of that fails.
    func start() async -> Ending? {
        let events = options.events
        let log = recorder.log
        var request = SessionEffects.StartRequest(
            target: plan.target,
            massif: plan.massif,
            xtreeMemory: plan.wantsAllocations,
            runDirectory: recorder.directory.path,
            searchPath: options.searchPath,
            environment: options.environment,
            progress: { progress in
                log.write("launch: \(progress)")
                events(.launch(progress))
            }
        )
        // The primary first: it starts in a second or two without valgrind, and a primary that cannot
        // start spares the replica's slow start.
        if let primarySettings = plan.primary {
            let primaryRequest = SessionEffects.PrimaryRequest(
                primary: primarySettings,
                runDirectory: recorder.directory.path,
                searchPath: options.searchPath,
                environment: options.environment
            )
            switch await effects.startPrimary(primaryRequest) {
            case .success(let primary):
                opened.primary = primary
                await recorder.setPrimary(primary.info)
                log.write("primary: \(primary.info.mode) at \(primary.info.address)")
                events(.primaryReady(primary.info))
                request.isReplica = primary.replicationSource != nil
            case .failure(let error):
                var ending = StepRules.startFailure(error)
                let verb = primarySettings.server != nil ? "could not be started" : "cannot be reached"
                ending.message = "the primary \(verb): \(error)"
                return ending
            }
        }
        let server: any ProfiledServer
        switch await effects.startServer(request) {
        case .success(let started): server = started
        case .failure(let error): return StepRules.startFailure(error)
        }
        // From here on the server must be stopped at the end, whatever fails next.
        let watch = ServerWatch(server: server)
        opened.server = server
        opened.watch = watch
        await recorder.setServer(server.info)
        for note in server.startNotes {
            switch note {
            case .warning(let message): await recorder.warn(message)
            case .log(let line): recorder.log.write(line)
            }
        }
        await recorder.persist()

        // The vgdb monitor and the observer connection are independent: the monitor's handshake goes on
        // while the observer connects and reads the facts (each round trip under valgrind costs ms).
        let effects = effects
        let (pid, vgdbPrefix) = (server.pid, server.vgdbPrefix)
        let connectingMonitor = Task {
            if let opened = await server.takeStartupMonitor() {
                return Result<any HeapMonitor, ValgrindError>.success(opened)
            }
            return await effects.connectMonitor(pid, vgdbPrefix)
        }
        let observer: any SQLSession
        do throws(ServerError) {
            observer = try await server.connectObserver()
        } catch {
            await closeMonitor(connectingMonitor)
            let explained = await server.explain(error)
            return Ending(status: .startFailed, message: "observer connection: \(explained)", exitCode: 4)
        }
        opened.observer = observer
        recorder.log.write("observer connected")
        // The facts are context for the report (version, envelope); a failure to read them is a warning.
        do throws(ServerError) {
            let facts = try await ServerFacts.read(from: observer)
            await recorder.updateServer { info in
                info.version = facts.version
                info.memoryVariables = facts.variables
                info.envelope = RunManifest.Envelope(
                    globalBuffers: facts.envelope.globalBuffers,
                    perSession: facts.envelope.perSession,
                    maxConnections: facts.envelope.maxConnections,
                    total: facts.envelope.total
                )
            }
            if case .server = plan.target, let warning = Self.rootOverTCPWarning(facts) {
                await recorder.warn(warning)
            }
        } catch {
            let explained = await server.explain(error)
            if case .serverDied = explained {
                await closeMonitor(connectingMonitor)
                return Ending(status: .serverDied, message: explained.description, exitCode: 4)
            }
            await recorder.warn("the server's memory variables could not be read: \(explained)")
        }

        recorder.log.write("server facts read")
        let monitor: any HeapMonitor
        switch await connectingMonitor.value {
        case .success(let connected):
            monitor = connected
            recorder.log.write("vgdb monitor connected")
        case .failure(let error):
            return Ending(
                status: .startFailed,
                message: "vgdb monitor: \(error)",
                exitCode: StepRules.monitorExitCode(error)
            )
        }
        let snapshotter = Snapshotter(
            monitor: monitor,
            observer: observer,
            recorder: recorder,
            watch: watch,
            observe: plan.observe
        )
        let executor = StepExecutor(
            server: server,
            watch: watch,
            snapshotter: snapshotter,
            recorder: recorder,
            connections: plan.connections,
            environment: options.environment
        )
        opened.monitor = monitor
        opened.executor = executor
        await recorder.persist()
        let version = await recorder.manifest.server?.version ?? ""
        recorder.emit(.serverReady(pid: server.pid, version: version, seconds: recorder.elapsed()))

        if case .server(let settings) = plan.target, !settings.initSQL.isEmpty {
            do throws(ServerError) {
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
        var replication: Replication?
        if let primary = opened.primary, let settings = plan.primary {
            switch await startReplication(primary: primary, settings: settings, replica: server) {
            case .started(let started):
                replication = started
                await executor.setReplication(started)
            case .failed(let ending):
                return ending
            }
        }
        live = LiveRun(
            server: server,
            watch: watch,
            snapshotter: snapshotter,
            executor: executor,
            replication: replication
        )
        await recorder.persist()
        if Task.isCancelled { return Ending(status: .interrupted, message: "interrupted while starting") }
        return nil
    }

    /// Said when a server snapctl started listens on TCP and matches logins by host name (the plan's
    /// options turned networking on): its root has no password and a loopback login passes for it.
    static let rootOverTCPWarning =
        "the server listens on TCP and resolves host names: a login from 127.0.0.1 passes for "
        + "root@localhost, which has no password, so anyone on this machine can log in as root; add "
        + "--skip-name-resolve to the server's options (docs/plan.md, server options)"

    /// Said when a MariaDB before 10.4 that snapctl started listens on TCP: its initialiser made
    /// passwordless roots for the loopback addresses and the host name, which snapctl removes only from
    /// 10.4 (`FlavorAdapter.removesNetworkRoot`), so `--skip-name-resolve` does not help.
    static let networkRootWarning =
        "the server listens on TCP and, as MariaDB before 10.4 initialises it, has passwordless root "
        + "accounts for 127.0.0.1, ::1 and the host name: anyone on this machine can log in as root; drop them "
        + "in init_sql (DELETE FROM mysql.user WHERE User = 'root' AND Host <> 'localhost'; FLUSH PRIVILEGES) "
        + "or leave networking off (docs/plan.md, server options)"

    /// The warning a server snapctl started deserves from its facts, if any (an attached server's
    /// accounts are its owner's).
    static func rootOverTCPWarning(_ facts: ServerFacts) -> String? {
        guard facts.listensOnTCP == true else { return nil }
        if facts.flavor == .mariadb, let version = ServerVersion(parsing: Substring(facts.version)),
            version < ServerVersion(10, 4)
        {
            return networkRootWarning
        }
        return facts.resolvesTCPLogins == true ? rootOverTCPWarning : nil
    }

    /// Waits for a monitor connection that the start no longer needs and hands it to finalisation to close.
    private func closeMonitor(_ connecting: Task<Result<any HeapMonitor, ValgrindError>, Never>) async {
        if case .success(let monitor) = await connecting.value { opened.monitor = monitor }
    }

    /// Runs the primary's `init_sql`, opens the replication connections and starts replication (or, with
    /// an attached replica, checks that it replicates); an ending when any of that fails.
    private func startReplication(
        primary: any PrimaryServer,
        settings: Plan.Primary,
        replica: any ProfiledServer
    ) async -> ReplicationStart {
        func failed(_ message: String) -> ReplicationStart {
            .failed(Ending(status: .startFailed, message: message, exitCode: 4))
        }
        let credentials = primary.defaultCredentials
        let primaryObserver: any SQLSession
        do throws(ServerError) {
            primaryObserver = try await primary.connect(
                name: "snapctl-primary",
                user: credentials?.user ?? "root",
                password: credentials?.password,
                database: nil
            )
        } catch {
            return failed("connecting to the primary: \(await primary.explain(error))")
        }
        let replicaControl: any SQLSession
        do throws(ServerError) {
            replicaControl = try await replica.connect(
                name: "snapctl-replication",
                user: replica.defaultCredentials?.user ?? "root",
                password: replica.defaultCredentials?.password,
                database: nil
            )
        } catch {
            await primaryObserver.close()
            return failed("connecting to the replica: \(await replica.explain(error))")
        }
        let replication = Replication(
            primary: primary,
            primaryObserver: primaryObserver,
            replicaControl: replicaControl,
            catchUpTimeout: settings.catchUpTimeout
        )
        opened.replication = replication
        if let server = settings.server, !server.initSQL.isEmpty {
            for statement in server.initSQL {
                do throws(ServerError) {
                    _ = try await primaryObserver.execute(statement)
                } catch {
                    return failed("the primary's init_sql failed: \(await primary.explain(error))")
                }
            }
        }
        do throws(Replication.Failure) {
            if let source = primary.replicationSource {
                let position = try await replication.start(
                    source: source,
                    password: effects.replicationPassword(),
                    connectTimeout: settings.catchUpTimeout.duration
                )
                await recorder.updatePrimary { $0.startPosition = position }
                recorder.log.write("replication: started at GTID '\(position)' from \(source.host):\(source.port)")
            } else {
                try await replication.checkAttached()
                recorder.log.write("replication: the attached replica replicates")
            }
        } catch {
            return failed(error.message)
        }
        return .started(replication)
    }

    /// How starting replication went.
    private enum ReplicationStart {
        case started(Replication)
        case failed(Ending)
    }

    // MARK: End

    /// Closes everything and completes the record; see ``Finaliser``.
    func finalise(_ ending: Ending) async -> SessionResult {
        await Finaliser(recorder: recorder, opened: opened).finalise(ending)
    }
}

extension RunManifest.Budgets {
    /// Records a step's lens budgets.
    mutating func add(_ lens: Plan.LensBudget, step label: String) {
        if let limit = lens.maxPeak { maxPeak = (maxPeak ?? [:]).merging([label: limit.bytes]) { $1 } }
        if let limit = lens.maxAllocated {
            maxAllocated = (maxAllocated ?? [:]).merging([label: limit.bytes]) { $1 }
        }
        if let limit = lens.maxAllocations {
            maxAllocations = (maxAllocations ?? [:]).merging([label: Int64(limit)]) { $1 }
        }
    }
}

extension StepRecord {
    /// A step's record before it runs: what the plan says it will do, on `connection` (the declared
    /// connection it runs on, for SQL steps).
    init(planned step: Plan.Step, index: Int, connection: String?) {
        let kind: StepKind =
            switch step.kind {
            case .sql: .sql
            case .sqlFile: .sqlFile
            case .snap: .snap
            case .sleep: .sleep
            case .shell: .shell
            case .parallel: .parallel
            }
        self.init(index: index, label: step.label, kind: kind, repeat: step.repeat)
        switch step.kind {
        case .sql(let statements):
            sql = statements
            self.connection = connection
        case .sqlFile(let file):
            sql = file.statements
            self.file = file.path
            self.connection = connection
        case .parallel(let parallel):
            sql = parallel.statements
            parallelConnections = parallel.connections
            self.connection = connection
        case .shell(let command):
            self.command = command
        case .snap, .sleep:
            break
        }
        if step.on == .primary { on = Plan.StepServer.primary.rawValue }
    }
}
