import MySQLServer
import Plan
import RunRecord

/// The server's own memory counters (plan key `observe:`), read through the observer connection: the
/// one place their queries are written and their rows turned into ``ServerCounters``.
enum CounterReader {
    static let memoryUsedQuery = "SHOW GLOBAL STATUS LIKE 'Memory_used'"
    /// Unordered: the rows are sorted here. An `ORDER BY` made the server run a filesort (and allocate
    /// its sort buffer) inside every counter read, and translating the filesort code under valgrind made
    /// the first read of a plan observing `processlist` slower (MariaDB 10.11: 134 ms against 103 ms).
    static let processlistQuery = "SELECT ID, USER, COMMAND, MEMORY_USED FROM information_schema.PROCESSLIST"
    static let globalStatusQuery = "SHOW GLOBAL STATUS"
    static let performanceSchemaQuery =
        "SELECT SUM(CURRENT_NUMBER_OF_BYTES_USED) FROM performance_schema.memory_summary_global_by_event_name"

    /// Reads `observables`; a counter that cannot be read is named in ``ServerCounters/error``, never
    /// fatal. `nil` when nothing is observed.
    static func read(_ observables: [Plan.Observable], from observer: any SQLSession) async -> ServerCounters? {
        guard !observables.isEmpty else { return nil }
        var counters = ServerCounters()
        var problems: [String] = []
        for observable in observables {
            do {
                switch observable {
                case .memoryUsed:
                    counters.memoryUsed = memoryUsed(try await observer.execute(memoryUsedQuery))
                case .processlist:
                    counters.processlist = processlist(try await observer.execute(processlistQuery))
                case .globalStatus:
                    counters.globalStatus = globalStatus(try await observer.execute(globalStatusQuery))
                case .performanceSchema:
                    counters.performanceSchemaBytes = performanceSchema(
                        try await observer.execute(performanceSchemaQuery)
                    )
                }
            } catch {
                problems.append("\(observable.rawValue): \(error)")
            }
        }
        if !problems.isEmpty { counters.error = problems.joined(separator: "; ") }
        return counters
    }

    static func memoryUsed(_ result: QueryResult) -> UInt64? {
        result.rows.first.flatMap { $0.count >= 2 ? $0[1] : nil }.flatMap { UInt64($0) }
    }

    /// The process list's rows by connection id (the query leaves the order to the server).
    static func processlist(_ result: QueryResult) -> [ProcessMemory] {
        let rows = result.rows.compactMap { row -> ProcessMemory? in
            guard row.count == 4, let id = row[0].flatMap({ UInt64($0) }), let memory = row[3].flatMap({ UInt64($0) })
            else { return nil }
            return ProcessMemory(id: id, user: row[1] ?? "", command: row[2] ?? "", memoryUsed: memory)
        }
        return rows.sorted { $0.id < $1.id }
    }

    static func globalStatus(_ result: QueryResult) -> [String: Int64] {
        var values: [String: Int64] = [:]
        for row in result.rows where row.count >= 2 {
            if let name = row[0], let value = row[1].flatMap({ Int64($0) }) { values[name] = value }
        }
        return values
    }

    static func performanceSchema(_ result: QueryResult) -> Int64? {
        result.rows.first.flatMap { $0.first ?? nil }.flatMap { Int64($0) }
    }
}
