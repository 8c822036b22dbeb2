import Testing
import TestSupport
@testable import RedisClient

/// Arrays written in place hold exactly the bytes written, on the stack path and on the heap path.
@Suite(.offCooperativePool)
struct ByteArraysTests {
    @Test(arguments: [0, 1, 7, ByteArrays.stackLimit, ByteArrays.stackLimit + 1, 5000])
    func holdsWhatWasWritten(capacity: Int) {
        let written = max(0, capacity - 1)  // fewer than the capacity, where there is room
        let bytes = ByteArrays.make(capacity: capacity) { buffer in
            for index in 0..<written { buffer[index] = UInt8(truncatingIfNeeded: index &* 31) }
            return written
        }
        #expect(bytes == (0..<written).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    }
}
