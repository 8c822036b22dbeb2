import Synchronization

/// Generates request IDs: a random per-process prefix (12 hex digits) and a counter (at least 8), e.g. `3f9a1c2e7b04-0000001a`.
///
/// Unique within the process and, by the 48-bit random prefix, across replicas, without a
/// `getrandom` call per request.
final class RequestIDGenerator: Sendable {
    /// The prefix and its dash, as ASCII hex digits.
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        prefix = Self.hex(generator.next() & 0xFFFF_FFFF_FFFF, minimumDigits: 12) + [UInt8(ascii: "-")]
    }

    /// The next request ID, written straight into the string's storage.
    func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        let digits = max(8, (UInt64.bitWidth - value.leadingZeroBitCount + 3) / 4)
        return String(unsafeUninitializedCapacity: prefix.count + digits) { buffer in
            _ = buffer.initialize(from: prefix)
            Self.writeHex(value, digits: digits, into: UnsafeMutableBufferPointer(rebasing: buffer[prefix.count...]))
            return prefix.count + digits
        }
    }

    /// `value` in lowercase hex, zero-padded to `minimumDigits`.
    static func hex(_ value: UInt64, minimumDigits: Int) -> [UInt8] {
        let digits = max(minimumDigits, (UInt64.bitWidth - value.leadingZeroBitCount + 3) / 4)
        return [UInt8](unsafeUninitializedCapacity: digits) { buffer, count in
            writeHex(value, digits: digits, into: buffer)
            count = digits
        }
    }

    /// Writes the low `digits` hex digits of `value` into the first `digits` bytes of `buffer`.
    private static func writeHex(_ value: UInt64, digits: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        var rest = value
        for offset in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xF)
            buffer[offset] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            rest >>= 4
        }
    }
}
