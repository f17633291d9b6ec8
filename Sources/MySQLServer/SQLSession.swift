/// What snapctl needs of a connection to the server: run a statement, know its connection id (for
/// `KILL QUERY`), close it.
///
/// ``Connection`` is the real one. The session works through this protocol so that its step rules can be
/// tested against a scripted server.
public protocol SQLSession: AnyObject, Sendable {
    /// The name used in errors and the run record.
    nonisolated var name: String { get }
    /// The server's id of this connection (`CONNECTION_ID()`).
    var threadID: UInt64 { get async }
    /// Runs one statement and returns what it gave.
    func execute(_ sql: String) async throws(ServerError) -> QueryResult
    /// Closes the connection; later statements fail.
    func close() async
}

extension Connection: SQLSession {}
