import Testing

@testable import REPL

@Suite("the REPL's input: commands, SQL and mistyped commands")
struct InputBufferTests {
    @Test func placeholder() {
        var buffer = InputBuffer()
        #expect(buffer.accept("snaps") == [.command(.snaps)])
    }
}
