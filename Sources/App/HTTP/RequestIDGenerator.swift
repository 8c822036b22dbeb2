import Synchronization

/// Generates request IDs: a random per-process prefix (12 hex digits) and a counter (at least 8), e.g. `3f9a1c2e7b04-0000001a`.
///
/// Unique within the process and, by the 48-bit random prefix, across replicas, without a
/// `getrandom` call per request.
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        let random = String(generator.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        prefix = String(repeating: "0", count: 12 - random.utf8.count) + random
    }

    /// The next request ID.
    func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        let hex = String(value, radix: 16)
        return prefix + "-" + String(repeating: "0", count: max(0, 8 - hex.utf8.count)) + hex
    }
}
