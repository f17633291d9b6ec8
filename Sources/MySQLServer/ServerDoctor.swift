import Valgrind

/// The server-side checks of `snapctl doctor`, as data; the CLI renders them.
public enum ServerDoctor {
    /// Checks the server binary (found, flavour and version), its symbols (stripped, debug file
    /// installed) and its datadir initialiser.
    ///
    /// - Parameters:
    ///   - binary: a name on `PATH` (plus `/usr/sbin`) or a path; the embedded default is `mariadbd`.
    ///   - path: a `PATH` to search instead of the process's.
    public static func checks(binary: String = "mariadbd", path: String? = nil) async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let resolved: String
        do {
            resolved = try ServerLocator.resolve(binary, path: path)
            checks.append(DoctorCheck(name: "server binary", status: .pass, detail: resolved))
        } catch {
            checks.append(
                DoctorCheck(
                    name: "server binary",
                    status: .fail,
                    detail: "'\(binary)' not found",
                    fix: "apt-get install mariadb-server, or give the server binary's path"
                )
            )
            return checks
        }

        let identified: ServerBinary
        do {
            identified = try await ServerLocator.identify(resolved)
            checks.append(
                DoctorCheck(
                    name: "server flavour and version",
                    status: .pass,
                    detail: "\(identified.flavor) \(identified.version) (\(identified.versionLine))"
                )
            )
        } catch {
            checks.append(
                DoctorCheck(
                    name: "server flavour and version",
                    status: .fail,
                    detail: "\(error)",
                    fix: "give the path of a MariaDB or MySQL server binary (mariadbd, mysqld)"
                )
            )
            return checks
        }

        checks.append(symbolsCheck(resolved, flavor: identified.flavor))

        if let initialiser = ServerLocator.initialiser(for: identified, path: path) {
            let how = identified.flavor == .mysql ? "\(initialiser) --initialize-insecure" : initialiser
            checks.append(DoctorCheck(name: "datadir initialiser", status: .pass, detail: how))
        } else {
            checks.append(
                DoctorCheck(
                    name: "datadir initialiser",
                    status: .fail,
                    detail: "mariadb-install-db not found next to \(resolved) or on PATH",
                    fix: "apt-get install mariadb-server (it ships mariadb-install-db)"
                )
            )
        }
        return checks
    }

    /// Whether frames in snapshots will have names: a binary with its symbol table, or a stripped one
    /// whose separate debug file is installed, passes; a stripped one without it warns.
    static func symbolsCheck(_ binary: String, flavor: ServerFlavor) -> DoctorCheck {
        let name = "server symbols"
        guard let symbols = ELFSymbols.inspect(binary) else {
            return DoctorCheck(name: name, status: .warn, detail: "\(binary) is not a 64-bit ELF file snapctl can read")
        }
        if !symbols.isStripped {
            let dwarf = symbols.hasDebugInfo ? ", with DWARF debug info" : ""
            return DoctorCheck(name: name, status: .pass, detail: "not stripped\(dwarf)")
        }
        if let file = symbols.installedDebugFile(for: binary) {
            return DoctorCheck(name: name, status: .pass, detail: "stripped; debug symbols installed at \(file)")
        }
        let package = flavor == .mariadb ? "mariadb-server-core-dbgsym" : "the server's -dbgsym/-debuginfo package"
        let lookedAt = symbols.debugFileCandidates(for: binary).first.map { " (looked for \($0))" } ?? ""
        return DoctorCheck(
            name: name,
            status: .warn,
            detail: "stripped and no debug symbols installed\(lookedAt); about half of the frames in snapshots "
                + "will show as ???",
            fix: "install \(package) (Debian: add the debian-debug archive to the apt sources)"
        )
    }
}

extension ServerDoctor {
    /// Which malloc the server will run on, from its needed libraries and `preload` (the `LD_PRELOAD` its
    /// plan's `server.env` sets): jemalloc and tcmalloc pass with the `--soname-synonyms` snapctl adds; an
    /// allocator snapctl does not know warns, since Massif would see none of its blocks.
    public static func allocatorCheck(binary: String, preload: [String], path: String? = nil) -> DoctorCheck {
        let name = "server allocator"
        guard let resolved = try? ServerLocator.resolve(binary, path: path) else {
            return DoctorCheck(name: name, status: .warn, detail: "'\(binary)' not found, so not inspected")
        }
        var environment: [String: String] = [:]
        if !preload.isEmpty { environment["LD_PRELOAD"] = preload.joined(separator: " ") }
        do {
            try AllocatorDetector.checkPreload(environment: environment)
        } catch {
            return DoctorCheck(
                name: name,
                status: .fail,
                detail: "\(error)",
                fix: "give an existing library to LD_PRELOAD (server.env in the plan)"
            )
        }
        let found = AllocatorDetector.detect(binary: resolved, environment: environment)
        guard !found.isEmpty else {
            return DoctorCheck(name: name, status: .pass, detail: "the C library's malloc (Massif's default)")
        }
        if let unknown = found.first(where: { $0.kind == .unknown }) {
            return DoctorCheck(
                name: name,
                status: .warn,
                detail: "\(unknown.summary): an allocator snapctl does not know; Massif sees none of its blocks "
                    + "without --soname-synonyms",
                fix: "add --soname-synonyms=somalloc=<a pattern matching its soname, e.g. *mimalloc*> "
                    + "to massif.options in the plan, or set server.env's LD_PRELOAD to jemalloc or tcmalloc"
            )
        }
        let option = AllocatorDetector.massifOptions(for: found, userOptions: []).first ?? ""
        let summaries = found.map(\.summary).joined(separator: ", ")
        return DoctorCheck(
            name: name,
            status: .pass,
            detail: "\(summaries); snapctl adds \(option) to Massif's options"
        )
    }
}
