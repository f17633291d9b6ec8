import Testing

@testable import Plan

@Suite struct ByteSizeTests {
    @Test(
        arguments: [
            ("100B", 100),
            ("512KiB", 512 * 1024),
            ("64MiB", 64 * 1024 * 1024),
            ("1GiB", 1 << 30),
            ("2TiB", 2 << 40),
            ("64MB", 64_000_000),
            ("1KB", 1000),
            ("1GB", 1_000_000_000),
            ("64M", 64 * 1024 * 1024),
            ("64K", 64 * 1024),
            ("1G", 1 << 30),
            ("16m", 16 * 1024 * 1024),
            ("1.5GiB", 1_610_612_736),
            ("0B", 0),
        ] as [(String, Int64)]
    )
    func parses(text: String, bytes: Int64) throws {
        #expect(try ByteSize.parse(text).bytes == bytes)
    }

    @Test(arguments: [
        ("big", "expected a size like 64MiB or 512KiB, got 'big'"),
        ("64", "expected a size like 64MiB or 512KiB, got '64', which has no unit; did you mean '64MiB' or '64B'?"),
        ("-1MiB", "expected a size like 64MiB or 512KiB, got '-1MiB', which is negative; sizes are 0 or more"),
        (
            "64mib",
            "expected a size like 64MiB or 512KiB, got '64mib', whose unit 'mib' is unknown; did you mean '64MiB'?"
        ),
        (
            "10 bytes",
            "expected a size like 64MiB or 512KiB, got '10 bytes', whose unit 'bytes' is unknown; did you mean '10B'?"
        ),
        ("1MBi", "expected a size like 64MiB or 512KiB, got '1MBi', whose unit 'MBi' is unknown; did you mean '1MiB'?"),
        (
            "1xyzzy",
            "expected a size like 64MiB or 512KiB, got '1xyzzy', whose unit 'xyzzy' is unknown; use B, KiB, MiB, GiB, "
                + "KB, MB, GB, K, M or G"
        ),
        (
            "0.5B",
            "expected a size like 64MiB or 512KiB, got '0.5B', which is not a whole number of bytes or is too large"
        ),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: PlanValueError(message)) { try ByteSize.parse(text) }
    }

    @Test(
        arguments: [
            (0, "0B"), (100, "100B"), (1024, "1KiB"), (64 * 1024 * 1024, "64MiB"), (1 << 30, "1GiB"),
            (64_000_000, "64MB"), (1000, "1KB"), (1500, "1500B"),
        ] as [(Int64, String)]
    )
    func writesAnExactSpelling(bytes: Int64, text: String) throws {
        let size = ByteSize(bytes: bytes)
        #expect(size.description == text)
        #expect(try ByteSize.parse(text) == size)
    }
}
