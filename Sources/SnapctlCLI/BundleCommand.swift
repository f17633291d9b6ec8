import ArgumentParser
import Bundle
import Foundation
import Massif
import MySQLServer
import Plan
import TextFormat

/// `snapctl bundle pack|verify`: a run as one file to share, and the check that it arrived intact.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Pack a run directory as one .tar.gz bug report, or verify one.",
        discussion: "See docs/bundle.md. `snapctl replay FILE` runs a bundle again.",
        subcommands: [BundlePackCommand.self, BundleVerifyCommand.self]
    )
}

/// `snapctl bundle pack RUN_DIR`: the run directory, README.txt, env.json and SHA256SUMS in one
/// `.tar.gz`, with host names and environment values replaced.
struct BundlePackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack a run directory as a .tar.gz with README.txt, env.json and SHA256SUMS, secrets removed.",
        discussion: """
            Passwords (--password=, -p..., MASTER_PASSWORD, IDENTIFIED BY, PASSWORD(...)), URL user info, \
            host names and IP addresses are replaced in every file; env.json lists only allowed environment \
            variables (LANG, LC_*, TZ, TERM, PATH, MALLOC_*, GLIBC_TUNABLES, VALGRIND_OPTS); the values of \
            variables named *PASSWORD*, *SECRET*, *TOKEN*, *KEY* and of the plan's password_env are replaced \
            by REDACTED_<NAME>. Prints each replacement (file:line: kind), and refuses to write the bundle if \
            such a value is still found. The bundle is written 0600. Prints the bundle's path as the last line. Exit status: 0 packed; 1 not a run directory or the \
            bundle could not be written.
            """
    )

    @Argument(help: "The run directory (written by snapctl session).")
    var runDirectory: String

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("The bundle file (default <run directory>.tar.gz).", valueName: "file")
    )
    var output: String?

    @Flag(help: "Replace SQL string and number literals with ? (the bundle can then not be replayed).")
    var redactLiterals = false

    func run() throws {
        let started = ContinuousClock.now
        let result: BundlePacker.Result
        do {
            result = try BundlePacker.pack(
                BundlePacker.Options(
                    runDirectory: runDirectory,
                    output: output,
                    redactLiterals: redactLiterals,
                    toolVersion: SessionCommand.toolVersion
                )
            )
        } catch {
            printError(error.description)
            throw ExitStatus.usage
        }
        for warning in result.warnings { printError("warning: " + warning) }
        let elapsed = ContinuousClock.now - started
        print(
            "packed \(runDirectory) as \(result.top)/: \(result.fileCount) files, "
                + "\(Format.bytes(result.size)) in \(Format.seconds(elapsed.seconds))"
        )
        for finding in result.findings { print("redacted \(finding)") }
        var redacted: [String] = []
        if result.hostNameReplaced { redacted.append("host names") }
        if !result.redactedVariables.isEmpty {
            redacted.append("values of " + result.redactedVariables.joined(separator: ", "))
        }
        if redactLiterals { redacted.append("SQL literals (not replayable)") }
        print("redacted: " + (redacted.isEmpty ? "nothing found to redact" : redacted.joined(separator: "; ")))
        print(result.output)
    }
}

/// `--max-unpacked`, `--max-entries`, `--max-entry-size`: how much a bundle may unpack to.
struct ArchiveLimitOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The most a bundle may unpack to in all (default 1GiB); reading stops beyond it.",
            valueName: "size"
        )
    )
    var maxUnpacked: String?

    @Option(help: ArgumentHelp("The most entries a bundle may hold (default 100000).", valueName: "count"))
    var maxEntries: Int?

    @Option(help: ArgumentHelp("The largest file a bundle may hold (default 512MiB).", valueName: "size"))
    var maxEntrySize: String?

    func validate() throws {
        for (flag, value) in [("--max-unpacked", maxUnpacked), ("--max-entry-size", maxEntrySize)] {
            guard let value else { continue }
            do {
                _ = try ByteSize.parse(value)
            } catch {
                throw ValidationError("\(flag): \(error)")
            }
        }
        if let maxEntries, maxEntries < 1 { throw ValidationError("--max-entries: expected a positive count") }
    }

    var limits: ArchiveLimits {
        func bytes(_ text: String?, _ fallback: Int) -> Int {
            guard let text, let size = try? ByteSize.parse(text) else { return fallback }
            return Int(size.bytes)
        }
        return ArchiveLimits(
            totalBytes: bytes(maxUnpacked, ArchiveLimits.defaultTotalBytes),
            entries: maxEntries ?? ArchiveLimits.defaultEntries,
            entryBytes: bytes(maxEntrySize, ArchiveLimits.defaultEntryBytes)
        )
    }
}

/// `snapctl bundle verify FILE|DIR`: every checksum, the manifest's schema, no file missing or extra.
struct BundleVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a bundle: every SHA256SUMS checksum, the manifest schema, missing and extra files.",
        discussion: """
            Names each bad, missing or extra file on standard error. Exit status: 0 the bundle is intact; \
            1 anything is wrong (a problem listed, a truncated or unsafe archive).
            """
    )

    @Argument(help: "The bundle: a .tar.gz written by snapctl bundle pack, or its unpacked folder.")
    var bundle: String

    @OptionGroup var limitOptions: ArchiveLimitOptions

    func run() throws {
        let started = ContinuousClock.now
        let contents: BundleContents
        do {
            contents = try BundleSource.read(bundle, limits: limitOptions.limits)
        } catch {
            printError(error.description)
            throw ExitStatus.usage
        }
        let verification = BundleVerifier.verify(contents)
        let elapsed = Format.seconds((ContinuousClock.now - started).seconds)
        guard verification.isValid else {
            for problem in verification.problems { printError("\(bundle): \(problem)") }
            let count = verification.problems.count
            printError("\(bundle): \(count) problem\(count == 1 ? "" : "s"); do not trust this bundle")
            throw ExitStatus.usage
        }
        var line = "ok: \(bundle): \(verification.verifiedFiles) files match SHA256SUMS"
        if let manifest = verification.manifest {
            line += " (plan '\(manifest.plan.name)', \(manifest.schema)"
            if manifest.redaction?.replayable == false { line += ", not replayable: literals redacted" }
            line += ")"
        }
        print(line + " in \(elapsed)")
        print(
            "note: the checksums prove the bundle arrived as it was packed, not who packed it or that it is harmless; "
                + "snapctl replay shows what it would run and asks for flags before anything risky"
        )
    }
}
