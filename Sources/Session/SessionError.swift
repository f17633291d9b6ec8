/// Problems found before the server starts; once it has started, failures are recorded in the run
/// directory instead of thrown.
public enum SessionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The run directory cannot be created or written.
    case runDirectoryUnwritable(path: String, reason: String)
    /// The run directory already holds a run.
    case runDirectoryInUse(path: String)

    public var description: String {
        switch self {
        case .runDirectoryUnwritable(let path, let reason):
            return "cannot write the run directory \(path): \(reason); choose another --out"
        case .runDirectoryInUse(let path):
            return "\(path) already holds a run (it has a manifest.json); choose another --out or remove it"
        }
    }
}
