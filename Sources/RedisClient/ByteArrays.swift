/// Byte arrays written in place.
public enum ByteArrays {
    /// The largest array ``make(capacity:_:)`` writes on the stack first.
    static let stackLimit = 1024

    /// An array of the bytes `body` writes into memory of `capacity` bytes; it returns how many it wrote.
    ///
    /// Up to ``stackLimit`` bytes are written on the stack and copied into the array: allocating an array
    /// uninitialized (`init(unsafeUninitializedCapacity:initializingWith:)`) looks up the array storage's
    /// generic metadata on every call (about 600 instructions, measured with callgrind), where an array
    /// made from a buffer takes the specialized path (about 250 with the copy of a short key or command).
    public static func make(capacity: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) -> Int) -> [UInt8] {
        if capacity <= stackLimit {
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { scratch in
                let count = body(scratch)
                return [UInt8](UnsafeBufferPointer(rebasing: scratch[..<count]))
            }
        }
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in initialized = body(buffer) }
    }
}
