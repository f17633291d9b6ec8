/// One line of `snapctl doctor`: what was checked, how it went, and what to do about it.
public struct DoctorCheck: Sendable, Hashable, Codable {
    /// The outcome of a check.
    public enum Status: String, Sendable, Hashable, Codable {
        case pass
        case warn
        case fail
    }

    public var name: String
    public var status: Status
    /// What was found (paths, versions).
    public var detail: String
    /// What to do when the status is not `pass`.
    public var fix: String?

    /// Creates a check result.
    public init(name: String, status: Status, detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}
