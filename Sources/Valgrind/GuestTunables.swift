/// glibc settings snapctl gives the program it runs under valgrind, so that large `memcpy` and
/// `memset` calls do not use the `rep movsb`/`rep stosb` instructions.
///
/// Why: valgrind runs a `rep` string instruction one byte per iteration of its translated loop, so a
/// 6 KiB copy that takes a few hundred instructions natively takes about 12,000 translated ones. glibc
/// picks `rep movsb` for copies above 2 KiB on CPUs that report fast string instructions, and valgrind's
/// virtual CPU reports them. MariaDB's `SHOW STATUS` copies a 6 KiB default record once per status
/// variable (about 600 of them) before it filters by name, so under valgrind every form of it cost about
/// 18 ms, nine tenths of it in `memcpy`; with these thresholds raised out of reach, glibc uses its vector
/// loops instead and the same query costs about 3 ms. The heap is untouched: only the choice of copy
/// loop changes, never what is allocated, so snapshots are the same.
///
/// The thresholds are `glibc.cpu.x86_rep_movsb_threshold` and `glibc.cpu.x86_rep_stosb_threshold`
/// (glibc 2.33 and later; an older glibc or another CPU ignores them). A value the user already set,
/// in the plan's `server: {env: ...}` or in snapctl's own environment, is kept.
public enum GuestTunables {
    /// The environment variable glibc reads its tunables from.
    public static let variable = "GLIBC_TUNABLES"

    /// The settings, in the order they are appended: above any copy a server makes, so never reached.
    public static let settings: [(name: String, value: String)] = [
        ("glibc.cpu.x86_rep_movsb_threshold", "4294967295"),
        ("glibc.cpu.x86_rep_stosb_threshold", "4294967295"),
    ]

    /// The value of `GLIBC_TUNABLES` for the program: `existing` (colon-separated `name=value` pairs)
    /// with every setting it does not name appended.
    public static func merged(with existing: String?) -> String {
        let kept = (existing ?? "").split(separator: ":", omittingEmptySubsequences: true).map(String.init)
        let named = Set(kept.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        let added = settings.filter { !named.contains($0.name) }.map { "\($0.name)=\($0.value)" }
        return (kept + added).joined(separator: ":")
    }

    /// Whether a `GLIBC_TUNABLES` value names both thresholds, whatever their values.
    public static func isApplied(_ value: String?) -> Bool {
        guard let value else { return false }
        let named = Set(value.split(separator: ":").compactMap { $0.split(separator: "=").first.map(String.init) })
        return settings.allSatisfy { named.contains($0.name) }
    }
}
