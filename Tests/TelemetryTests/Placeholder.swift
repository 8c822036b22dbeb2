import Testing

@Test func placeholderTelemetryTests() { #expect(Bool(true)) }
