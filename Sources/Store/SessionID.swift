/// The ID rule shared by agent and session IDs: `^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$`.
public enum SessionID {
    /// Whether `bytes` is a valid agent or session ID.
    ///
    /// Inlinable so that callers in other modules get it specialized for their collection: unspecialized,
    /// every byte went through a protocol witness (about 1,500 instructions an ID).
    @inlinable
    public static func isValid<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var count = 0
        for byte in bytes {
            count += 1
            if count > 128 { return false }
            let isAlnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            if count == 1 {
                if !isAlnum { return false }
            } else if !(isAlnum || byte == 0x2E || byte == 0x5F || byte == 0x7E || byte == 0x40 || byte == 0x2D) {
                return false
            }
        }
        return count > 0
    }
}
