import Testing

@testable import Valgrind

@Test func placeholderValgrind() { #expect(Bool(true)) }
