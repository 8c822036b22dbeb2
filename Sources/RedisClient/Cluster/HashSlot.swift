/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key's hash tag, mod 16384.
///
/// The hash tag is the part between the first `{` and the first `}` after it, when that part is not
/// empty; otherwise the whole key. This is the algorithm of the
/// [cluster specification](https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
public struct HashSlot: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number of slots in a Redis Cluster.
    public static let count = 16384

    /// The slot number, in `0..<16384`.
    public let value: Int

    /// The slot of `value`, which must be in `0..<16384`.
    public init?(_ value: Int) {
        guard (0..<Self.count).contains(value) else { return nil }
        self.value = value
    }

    /// The slot of `key`.
    public init<Bytes: Collection<UInt8>>(key: Bytes) {
        value = Int(Self.crc16(Self.hashTag(of: key)) & 0x3FFF)
    }

    /// The slot of `key`'s UTF-8 bytes.
    public init(key: String) {
        self.init(key: key.utf8)
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool { lhs.value < rhs.value }

    public var description: String { String(value) }

    /// The bytes that are hashed: the hash tag when there is a non-empty one, else the whole key.
    static func hashTag<Bytes: Collection<UInt8>>(of key: Bytes) -> Bytes.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen else {
            return key[...]
        }
        return key[afterOpen..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    static func crc16<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
