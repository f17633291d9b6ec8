import ArgumentParser
import Foundation
import Plan

/// `snapctl export mtr PLAN`: a plan in the forms other tools read.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a plan in another tool's format.",
        subcommands: [ExportMtrCommand.self]
    )
}

/// `snapctl export mtr PLAN -o FILE.test`: the plan's SQL as a mysqltest file.
struct ExportMtrCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtr",
        abstract: "Write a plan's SQL as a mysqltest file (mariadb-test, mysqltest, mysql-test-run).",
        discussion: """
            Connections become connect/connection, expected errors --error, repeated steps while loops, \
            parallel steps send/reap over several connections, shell steps --exec, sleeps --sleep, and \
            snapshots comments. Exit status: 0 written; 1 bad plan or the file could not be written.
            """
    )

    @Argument(help: "The plan file (sql_file: paths are read relative to it).")
    var plan: String

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("The .test file to write (default: standard output).", valueName: "file")
    )
    var output: String?

    func run() throws {
        let (loaded, _) = try SessionCommand.loadPlan(plan)
        let text = loaded.mysqlTest(source: plan)
        if loaded.primary != nil {
            printError(
                "warning: \(plan) profiles a replica fed by a primary; the test covers only the profiled server "
                    + "(no replication is set up, steps on the primary are comments in it)"
            )
        }
        guard let output, output != "-" else {
            print(text, terminator: "")
            return
        }
        do {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            printError("cannot write \(output): \((error as NSError).localizedDescription)")
            throw ExitStatus.usage
        }
        print(output)
    }
}
