import Testing
import TextFormat

@Suite struct FormatTests {
    @Test(arguments: [
        (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
        (48_130_457, "45.9 MiB"), (3 << 30, "3.0 GiB"), (-2048, "-2.0 KiB"), (-5, "-5 B"),
        (Int.max, "8.0 EiB"),
    ])
    func bytes(_ value: Int, _ text: String) {
        #expect(Format.bytes(value) == text)
    }

    @Test(arguments: [(1536, "+1.5 KiB"), (-1536, "-1.5 KiB"), (0, "0 B"), (1, "+1 B")])
    func signedBytesMarkGrowthOnly(_ value: Int, _ text: String) {
        #expect(Format.signedBytes(value) == text)
    }

    @Test(arguments: [
        (0, "0"), (999, "999"), (1000, "1,000"), (1_234_567, "1,234,567"), (-1024, "-1,024"),
        (Int.min, "-9,223,372,036,854,775,808"),
    ])
    func grouped(_ value: Int, _ text: String) {
        #expect(Format.grouped(value) == text)
    }

    @Test func signedGroupedMarksGrowthOnly() {
        #expect(Format.signedGrouped(1234) == "+1,234")
        #expect(Format.signedGrouped(-1234) == "-1,234")
        #expect(Format.signedGrouped(0) == "0")
    }

    @Test(arguments: [
        (2.375, 2, "2.38"), (2.0, 2, "2.00"), (-1.25, 1, "-1.3"), (-0.001, 2, "0.00"), (0.05, 1, "0.1"),
        (12.0, 0, "12"), (-0.4, 0, "0"), (99.999, 2, "100.00"), (Double.nan, 1, "nan"),
        (Double.infinity, 1, "inf"), (-Double.infinity, 1, "-inf"),
    ])
    func decimalRoundsHalfAwayFromZero(_ value: Double, _ digits: Int, _ text: String) {
        #expect(Format.decimal(value, digits: digits) == text)
    }

    @Test(arguments: [(2.0, "2"), (0.5, "0.5"), (0.25, "0.25"), (1.2375, "1.238"), (-0.0001, "0"), (10.10, "10.1")])
    func compactDecimalDropsTrailingZeros(_ value: Double, _ text: String) {
        #expect(Format.compactDecimal(value) == text)
    }

    @Test func durations() {
        #expect(Format.seconds(1.234) == "1.23 s")
        #expect(Format.seconds(0.125) == "0.13 s")
        #expect(Format.seconds(0) == "0.00 s")
        #expect(Format.limitSeconds(2) == "2 s")
        #expect(Format.limitSeconds(0.5) == "0.5 s")
        #expect(Format.limitSeconds(0.25) == "0.25 s")
    }

    @Test func percent() {
        #expect(Format.percent(12.46) == "12.5%")
        #expect(Format.percent(0) == "0.0%")
        #expect(Format.percent(100) == "100.0%")
    }

    @Test func columnsAlignWithoutCutting() {
        #expect(Format.pad("ab", 4) == "ab  ")
        #expect(Format.leftPad("ab", 4) == "  ab")
        #expect(Format.pad("abcdef", 4) == "abcdef")
        #expect(Format.leftPad("abcdef", 4) == "abcdef")
        #expect(Format.pad("", 0) == "")
        #expect(Format.leftPad("x", -3) == "x")
    }

    @Test func widthsCountCharactersNotBytes() {
        #expect(Format.pad("é", 3) == "é  ")
        #expect(Format.leftPad("→", 2) == " →")
    }
}
