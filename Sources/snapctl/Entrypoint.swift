import SnapctlCLI

/// The snapctl executable: everything lives in `SnapctlCLI`, so the binary is this one call.
@main
enum Entrypoint {
    static func main() async {
        await Snapctl.main()
    }
}
