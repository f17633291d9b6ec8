/// snapctl's version: the one place it is written. `snapctl --version` prints it, and every run record,
/// report and bundle carries it.
public enum SnapctlVersion {
    public static let current = "0.3.0"
}
