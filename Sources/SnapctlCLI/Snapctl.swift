import ArgumentParser

/// The root command: `snapctl` and its subcommands.
public struct Snapctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapctl",
        abstract: "Profile MySQL and MariaDB heap growth per SQL step with Valgrind Massif.",

        subcommands: [
            SessionCommand.self, ReportCommand.self, DoctorCommand.self, MonitorCommand.self, MassifCommand.self,
            BundleCommand.self, ReplayCommand.self, ExportCommand.self,
            ReplCommand.self,
        ]

    )

    public init() {}
}
