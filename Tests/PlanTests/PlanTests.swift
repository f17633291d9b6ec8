import Testing

@testable import Plan

@Test func placeholderPlan() { #expect(Bool(true)) }
