import Testing

@Test func placeholderRedisClientTests() { #expect(Bool(true)) }
