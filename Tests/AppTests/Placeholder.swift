import Testing

@Test func placeholderAppTests() { #expect(Bool(true)) }
