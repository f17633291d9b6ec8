import ArgumentParser
import Bundle
import Foundation
import Massif
import Plan
import Session

/// `snapctl replay FILE|DIR`: runs a bundle's plan again here and says whether its heap growth
/// reproduces.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a bundle's plan again on this machine and compare each step's heap change with the recording.",
        discussion: """
            Verifies the bundle and prints what it will run: the server and its options, every shell step, \
            connection and sql_file. Shell steps run only with --allow-shell; server options beyond the \
            memory-relevant ones need --allow-server-option NAME (docs/bundle.md lists them); the server \
            always gets --skip-networking last. Then it unpacks the bundle safely into a temporary folder, runs its plan with the recorded \
            server options into a new run directory, and prints per step the recorded and the new heap change \
            with a verdict. The headline is the step that grew most in the recording.
            Exit status: 0 the headline growth reproduced; 3 it did not; 1 the bundle is damaged, unsafe or \
            not replayable (packed with --redact-literals), or asks for what needs a flag; 2 environment not ready (valgrind or the server \
            binary missing); 130 interrupted.
            """
    )

    @Argument(help: "The bundle: a .tar.gz written by snapctl bundle pack, or its unpacked folder.")
    var bundle: String

    @Option(
        name: .customLong("out"),
        help: ArgumentHelp("The new run directory (default runs/replay-<plan name>-<UTC time>).", valueName: "dir")
    )
    var out: String?

    @Option(help: ArgumentHelp("The relative tolerance, e.g. 10% or 0.1.", valueName: "percent"))
    var tolerance: String = "10%"

    @Option(help: ArgumentHelp("The absolute tolerance, e.g. 64KiB; the larger of the two applies.", valueName: "size"))
    var toleranceBytes: String = "64KiB"

    @Flag(help: "Accept a plan that sets server.env (LD_PRELOAD and the like); read the bundle's plan.yaml first.")
    var allowEnv = false

    @Flag(help: "Print no line per step while the plan runs; only the comparison.")
    var quiet = false

    @Option(name: .customLong("search-path"), help: .hidden)
    var searchPath: String?

    @Flag(
        help:
            "Run the bundle's shell: steps (commands run as you, with your environment). Without it, replay refuses a bundle that has any."
    )
    var allowShell = false

    @Option(
        name: .customLong("allow-server-option"),
        help: ArgumentHelp(
            "Accept a server option from the bundle beyond the memory-relevant ones replay accepts (e.g. port, init-file); repeat for each.",
            valueName: "name"
        )
    )
    var allowedServerOptions: [String] = []

    @Option(
        name: .customLong("allow-valgrind-option"),
        help: ArgumentHelp(
            "Accept a valgrind option from the bundle beyond those that shape Massif's measurement; repeat for each.",
            valueName: "name"
        )
    )
    var allowedValgrindOptions: [String] = []

    @Option(help: ArgumentHelp("The server binary to run instead of the one the bundle names.", valueName: "path"))
    var serverBinary: String?

    @OptionGroup var limitOptions: ArchiveLimitOptions

    /// `10%` or `0.1` as a fraction.
    static func parseFraction(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            return Double(trimmed.dropLast()).map { $0 / 100 }.flatMap { $0 >= 0 ? $0 : nil }
        }
        return Double(trimmed).flatMap { $0 >= 0 && $0 <= 10 ? $0 : nil }
    }

    func validate() throws {
        if Self.parseFraction(tolerance) == nil {
            throw ValidationError(
                "--tolerance: expected a percentage like 10% or a fraction like 0.1, got '\(tolerance)'"
            )
        }
        do {
            _ = try ByteSize.parse(toleranceBytes)
        } catch {
            throw ValidationError("--tolerance-bytes: \(error)")
        }
    }

    func run() async throws {
        let fraction = Self.parseFraction(tolerance) ?? ReplayTolerance.defaultFraction
        let bytes = (try? ByteSize.parse(toleranceBytes)).map { Int($0.bytes) } ?? ReplayTolerance.defaultBytes
        let printer = SessionPrinter(mode: quiet ? .quiet : .text)
        let bundle = self.bundle
        var options = Replay.Options(
            bundle: bundle,
            out: out,
            tolerance: ReplayTolerance(fraction: fraction, bytes: bytes),
            toolVersion: SessionCommand.toolVersion,
            arguments: CommandLine.arguments,
            searchPath: searchPath,
            permissions: ReplayPermissions(
                allowShell: allowShell,
                serverOptions: Set(allowedServerOptions),
                massifOptions: Set(allowedValgrindOptions),
                serverBinary: serverBinary
            ),
            limits: limitOptions.limits,
            disclosed: { lines in
                print("bundle \(bundle): checksums match; what it will run:")
                for line in lines { print("  " + line) }
                print("  the server with --skip-networking last and --secure-file-priv set to the unpacked bundle")
                fflush(nil)
            },
            checked: { checked in
                let manifest = checked.manifest
                var line = "bundle \(bundle): \(checked.verifiedFiles) files verified; plan '\(manifest.plan.name)'"
                if let server = manifest.server {
                    line += " recorded with \(server.flavor) \(server.version)"
                    if let valgrind = server.valgrindVersion { line += " under valgrind \(valgrind)" }
                }
                print(line)
                print("replaying into \(checked.runDirectory)")
                fflush(nil)
            },
            events: { printer.handle($0) }
        )
        options.allowServerEnvironment = allowEnv
        let replayOptions = options
        let (result, _) = try await Interrupts.run { () async -> Result<Replay.Outcome, BundleError> in
            do throws(BundleError) {
                return .success(try await Replay.run(replayOptions))
            } catch {
                return .failure(error)
            }
        }
        let outcome: Replay.Outcome
        switch result {
        case .failure(let error):
            printError(error.description)
            throw ExitStatus.usage
        case .success(let value):
            outcome = value
        }
        let session = outcome.session
        for warning in outcome.warnings { printError("warning: " + warning) }
        switch outcome.exitCode {
        case 2:
            let recordedBinary = outcome.recorded.server?.binary.map { " (recorded: \($0))" } ?? ""
            printError(
                (session.manifest.outcome.message ?? "the environment is not ready")
                    + "; replay needs valgrind and the server binary the bundle ran\(recordedBinary)"
            )
            print(session.runDirectory)
            throw ExitStatus.environment
        case 130:
            printError("interrupted; the replay's run directory is finalised")
            print(session.runDirectory)
            throw ExitStatus.interrupted
        case 1:
            printError(session.manifest.outcome.message ?? "the replay could not start")
            print(session.runDirectory)
            throw ExitStatus.usage
        default:
            break
        }
        if session.manifest.outcome.status != .completed, let message = session.manifest.outcome.message {
            printError("the replay ended \(session.manifest.outcome.status.rawValue): \(message)")
        }
        print("")
        print(outcome.comparison.table(), terminator: "")
        print(outcome.comparison.summary())
        print(session.runDirectory)
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}
