import Testing

@testable import SnapctlCLI

@Test func placeholderSnapctlCLI() { #expect(Bool(true)) }
