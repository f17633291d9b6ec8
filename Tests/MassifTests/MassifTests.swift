import Testing

@testable import Massif

@Test func placeholderMassif() { #expect(Bool(true)) }
