import Testing

@testable import GDBRemote

@Test func placeholderGDBRemote() { #expect(Bool(true)) }
