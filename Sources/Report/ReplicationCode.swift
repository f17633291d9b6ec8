import Massif
import RunRecord

/// How much of a replica's growth over a step lies in call paths through replication code.
///
/// MariaDB's `mariadbd` is stripped, but the functions it exports keep their names in the heap trees, and
/// replication's entry points are among them: the SQL thread applying row events
/// (`Rows_log_event::do_apply_event`), reading events (`Log_event::read_log_event`), the relay log and
/// master info (`Relay_log_info`, `Master_info`), `unpack_row`, the filters (`Rpl_filter`). A path that
/// passes through any of these was allocated on replication's behalf, whatever allocated it in the end
/// (opening a table to apply rows to it is replication's cost).
public struct ReplicationGrowth: Sendable, Hashable, Codable {
    /// The net change of every path through replication code (after minus before).
    public var bytes: Int
    /// The replication functions those paths pass through, largest change first, at most five.
    public var functions: [String]

    public init(bytes: Int, functions: [String]) {
        self.bytes = bytes
        self.functions = functions
    }

    /// Name prefixes of replication code.
    static let markers = [
        "Log_event::", "Rows_log_event::", "Write_rows_log_event::", "Update_rows_log_event::",
        "Delete_rows_log_event::", "Table_map_log_event::", "Query_log_event::", "Gtid_log_event::",
        "Xid_log_event::", "Format_description_log_event::", "Relay_log_info::", "Master_info::",
        "rpl_group_info::", "Rpl_filter::", "handle_slave_io", "handle_slave_sql", "exec_relay_log_event",
        "apply_event_and_update_pos", "queue_event", "unpack_row", "init_master_info", "init_relay_log_info",
        "rpl_parallel", "Relay_log_info", "Master_info",
    ]

    /// Whether a frame's name is replication code.
    public static func isReplication(_ frame: String) -> Bool {
        markers.contains { frame.hasPrefix($0) }
    }

    /// The replication share of `diff`; `nil` when it compares totals only.
    public static func measure(_ diff: SnapshotDiff) -> ReplicationGrowth? {
        guard !diff.isTotalsOnly else { return nil }
        var bytes = 0
        var byFunction: [String: Int] = [:]
        for entry in diff.paths {
            let names = entry.path.map(RunReport.displayName)
            // The innermost replication frame names the work (applying a row event, reading one).
            guard let function = names.first(where: isReplication) else { continue }
            bytes = bytes.addingReportingOverflow(entry.change.delta).partialValue
            byFunction[function, default: 0] += entry.change.delta
        }
        let functions = byFunction.sorted {
            $0.value.magnitude != $1.value.magnitude ? $0.value.magnitude > $1.value.magnitude : $0.key < $1.key
        }.prefix(5).map(\.key)
        return ReplicationGrowth(bytes: bytes, functions: Array(functions))
    }
}
