import Foundation
import MySQLServer
import Plan
import RunRecord
import Subprocess
import Valgrind

#if canImport(Glibc)
import Glibc
#endif

extension SessionRunner {
    /// Initialises the managed server's datadir with a private `--tmpdir` before the launch, which then
    /// reuses it.
    ///
    /// MariaDB deletes every `#sql*` file in its tmpdir when it starts (`mysql_rm_tmp_tables`). The
    /// initialiser's bootstrap server keeps temporary tables there (`mysql.tmp_user_sys`), so with the
    /// shared `/tmp` any other server starting at that moment makes initialisation fail with "Unknown table
    /// 'mysql.tmp_user_sys'". The launch's own initialisation has no tmpdir option, hence this.
    ///
    /// Returns an ending when initialisation failed or was interrupted; `nil` to go on (also when something
    /// the launch checks is missing, so that the launch reports it in its own words).
    func initialiseDatadir(_ settings: Plan.Server, flavor: ServerFlavor?, temporary: String) async -> Ending? {
        guard case .found = await ValgrindInstallation.locate(path: options.searchPath) else { return nil }
        let name = settings.binary ?? (settings.flavor == .mysql ? "mysqld" : "mariadbd")
        guard let path = try? ServerLocator.resolve(name, path: options.searchPath),
            var binary = try? await ServerLocator.identify(path)
        else { return nil }
        if let flavor { binary.flavor = flavor }
        let adapter = FlavorAdapter(binary: binary, runningAsRoot: ServerLocator.runningAsRoot)
        guard let initialiser = ServerLocator.initialiser(for: binary, path: options.searchPath) else { return nil }
        let layout = ServerRunLayout(runDirectory: directory.path)
        var command = adapter.initialisationCommand(initialiser: initialiser, layout: layout)
        command.arguments.append("--tmpdir=" + temporary)
        log.write("initialising the datadir: \(command)")
        emit(.launch(.initialisingDatadir(command)))

        var platform = PlatformOptions()
        platform.processGroupID = 0
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(5)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
        ]
        let outcome: Result<(TerminationStatus, String), any Error>
        do {
            let result = try await Subprocess.run(
                .path(.init(command.executable)),
                arguments: Arguments(command.arguments),
                workingDirectory: .init(layout.serverDirectory),
                platformOptions: platform,
                input: .none,
                output: .string(limit: 1 << 20),
                error: .combinedWithOutput
            )
            outcome = .success((result.terminationStatus, result.standardOutput))
        } catch {
            outcome = .failure(error)
        }
        if Task.isCancelled {
            try? FileManager.default.removeItem(atPath: layout.datadir)
            return Ending(status: .interrupted, message: "interrupted while the datadir was initialised")
        }
        switch outcome {
        case .failure(let error):
            try? FileManager.default.removeItem(atPath: layout.datadir)
            return Ending(status: .startFailed, message: "cannot run \(command): \(error)", exitCode: 2)
        case .success(let (status, output)):
            let previous = (try? String(contentsOfFile: layout.initialisationLog, encoding: .utf8)) ?? ""
            try? (previous + output).write(toFile: layout.initialisationLog, atomically: true, encoding: .utf8)
            if case .exited(0) = status { return nil }
            try? FileManager.default.removeItem(atPath: layout.datadir)
            let tail = output.split(separator: "\n").suffix(15).joined(separator: "\n")
            return Ending(
                status: .startFailed,
                message: "initialising the datadir failed (\(status)): \(command)\n\(tail)\n"
                    + "the whole output is in \(RunLayout.logsDirectory)/datadir-init.log",
                exitCode: 4
            )
        }
    }
}
