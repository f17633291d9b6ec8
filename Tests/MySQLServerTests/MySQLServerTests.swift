import Testing

@testable import MySQLServer

@Test func placeholderMySQLServer() { #expect(Bool(true)) }
