/// An incremental, pure RESP2 parser.
///
/// Feed it bytes as they arrive with ``feed(_:)-(UnsafeRawBufferPointer)``, then call ``next()`` until it
/// returns `nil` (or ``nextFrame()``, which checks a value and leaves it in place, for ``RESPReader``). When the buffered input does not yet hold a complete value, ``next()`` returns
/// `nil` and consumes nothing, so the same value is parsed again once more bytes arrive.
/// Malformed input and input over a limit throw ``RESPProtocolError``; the parser never traps on input.
///
/// Limits are checked as soon as a header is seen, so an oversize bulk string is rejected before its
/// payload is buffered. See the [RESP2 specification](https://redis.io/docs/latest/develop/reference/protocol-spec/).
public struct RESPParser: Sendable {
    /// The default ``maxBulkBytes``: 512 MiB, Redis's own `proto-max-bulk-len` default.
    public static let defaultMaxBulkBytes = 512 * 1024 * 1024
    /// The default ``maxArrayCount``: 16 Mi elements.
    public static let defaultMaxArrayCount = 1 << 24
    /// The default ``maxDepth``: 64 levels of nested arrays.
    public static let defaultMaxDepth = 64
    /// The default ``maxLineBytes``: 64 KiB for a simple string, error or header line.
    public static let defaultMaxLineBytes = 64 * 1024

    /// The largest bulk string accepted, in bytes.
    public var maxBulkBytes: Int
    /// The largest array accepted, in elements.
    public var maxArrayCount: Int
    /// The deepest nesting of arrays accepted; a top-level array has depth 1.
    public var maxDepth: Int
    /// The longest line (simple string, error, integer or length header) accepted, in bytes, CRLF excluded.
    public var maxLineBytes: Int

    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// Creates an empty parser.
    /// - Parameters:
    ///   - maxBulkBytes: The largest bulk string accepted.
    ///   - maxArrayCount: The largest array accepted.
    ///   - maxDepth: The deepest array nesting accepted.
    ///   - maxLineBytes: The longest line accepted.
    public init(
        maxBulkBytes: Int = RESPParser.defaultMaxBulkBytes,
        maxArrayCount: Int = RESPParser.defaultMaxArrayCount,
        maxDepth: Int = RESPParser.defaultMaxDepth,
        maxLineBytes: Int = RESPParser.defaultMaxLineBytes
    ) {
        self.maxBulkBytes = maxBulkBytes
        self.maxArrayCount = maxArrayCount
        self.maxDepth = maxDepth
        self.maxLineBytes = maxLineBytes
    }

    /// The number of bytes fed but not yet consumed by a parsed value.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received bytes to the parser's buffer.
    /// - Parameter bytes: The bytes, in arrival order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes to the parser's buffer.
    /// - Parameter bytes: The bytes, in arrival order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Parses the next complete value.
    /// - Returns: The value, or `nil` (consuming nothing) when the buffered bytes do not hold a complete value yet.
    /// - Throws: ``RESPProtocolError`` when the input is malformed or over a limit.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        guard let frame = try nextFrame() else { return nil }
        let value = self.value(in: frame)
        releaseConsumed()
        return value
    }

    /// Finds the next complete value and consumes it, checking it as ``next()`` does but building nothing.
    /// Its bytes stay in the buffer, readable with ``value(in:)`` and ``withBytes(of:_:)``, until the next
    /// ``feed(_:)-(UnsafeRawBufferPointer)``, ``next()`` or ``releaseConsumed()``.
    /// - Returns: Where the value lies in the buffer, or `nil` (consuming nothing) when it is not complete yet.
    /// - Throws: ``RESPProtocolError`` when the input is malformed or over a limit.
    public mutating func nextFrame() throws(RESPProtocolError) -> Range<Int>? {
        var index = readIndex
        // Walked through a buffer pointer: no bounds check per byte (every index is checked against
        // `bytes.count` by the grammar itself).
        let complete = try buffer.withUnsafeBufferPointer { bytes throws(RESPProtocolError) in
            try checkValue(bytes, at: &index, depth: 1)
        }
        guard complete else { return nil }
        defer { readIndex = index }
        return readIndex..<index
    }

    /// The value of a frame that ``nextFrame()`` returned.
    public func value(in frame: Range<Int>) -> RESPValue {
        withBytes(of: frame) { Self.value(of: $0) }
    }

    /// The value that `bytes` hold: one whole value, already checked (a frame, or a ``RESPReply``'s bytes).
    static func value(of bytes: UnsafeRawBufferPointer) -> RESPValue {
        var reader = RESPReader(bytes)
        return reader.nextValue() ?? .error("ERR internal: a checked reply did not parse")
    }

    /// Calls `body` with the bytes of a frame that ``nextFrame()`` returned, in place.
    public func withBytes<R>(of frame: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeBytes { bytes in try body(UnsafeRawBufferPointer(rebasing: bytes[frame])) }
    }

    /// Empties the buffer when everything in it was consumed, so that it starts over at its beginning.
    public mutating func releaseConsumed() {
        if readIndex == buffer.count && readIndex > 0 {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            readIndex = 0
        }
    }

    /// Drops consumed bytes once they make up at least half of the buffer, keeping appends amortised O(1).
    private mutating func compact() {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}

// MARK: - Grammar

private let cr: UInt8 = 13
private let lf: UInt8 = 10

extension RESPParser {
    /// Checks one value at `index` against the grammar and the limits, building nothing, and moves `index`
    /// past it. - Returns: false (leaving `index`) when the value is not complete yet.
    private func checkValue(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int, depth: Int) throws(RESPProtocolError) -> Bool {
        guard index < bytes.count else { return false }
        let type = bytes[index]
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"):
            break
        default:
            throw RESPProtocolError(.invalidTypeByte, "unexpected type byte 0x\(String(type, radix: 16))")
        }
        let lineStart = index + 1
        guard let lineEnd = try findLineEnd(bytes, from: lineStart) else { return false }
        let afterLine = lineEnd + 2

        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            index = afterLine
            return true
        case UInt8(ascii: ":"):
            guard parseInteger(bytes, lineStart..<lineEnd) != nil else {
                throw RESPProtocolError(.invalidInteger, "integer reply is not a 64-bit decimal integer")
            }
            index = afterLine
            return true
        case UInt8(ascii: "$"):
            let length = try parseLength(bytes, lineStart..<lineEnd)
            guard length >= 0 else {
                index = afterLine
                return true
            }
            guard length <= maxBulkBytes else {
                throw RESPProtocolError(.bulkTooLarge, "bulk string of \(length) bytes exceeds the limit of \(maxBulkBytes)")
            }
            let payloadEnd = afterLine + length
            if bytes.count > payloadEnd && bytes[payloadEnd] != cr {
                throw RESPProtocolError(.missingCRLF, "bulk string payload is not followed by CRLF")
            }
            if bytes.count > payloadEnd + 1 && bytes[payloadEnd + 1] != lf {
                throw RESPProtocolError(.missingCRLF, "bulk string payload is not followed by CRLF")
            }
            guard bytes.count >= payloadEnd + 2 else { return false }
            index = payloadEnd + 2
            return true
        default:  // "*"
            let count = try parseLength(bytes, lineStart..<lineEnd)
            guard count >= 0 else {
                index = afterLine
                return true
            }
            guard count <= maxArrayCount else {
                throw RESPProtocolError(.arrayTooLarge, "array of \(count) elements exceeds the limit of \(maxArrayCount)")
            }
            guard depth <= maxDepth else {
                throw RESPProtocolError(.nestingTooDeep, "arrays nested deeper than \(maxDepth) levels")
            }
            var cursor = afterLine
            for _ in 0..<count {
                if let next = skipCompleteBulk(bytes, at: cursor) {
                    cursor = next
                    continue
                }
                guard try checkValue(bytes, at: &cursor, depth: depth + 1) else { return false }
            }
            index = cursor
            return true
        }
    }

    /// The common element of an array, checked without the general path: a complete, well-formed bulk string
    /// of up to nine length digits, within the limits, or the null bulk string. Returns the index after it, or nil for anything else
    /// (null, malformed, incomplete, over a limit), which ``checkValue(_:at:depth:)`` then decides.
    @inline(__always)
    private func skipCompleteBulk(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "$") else { return nil }
        if start + 4 < bytes.count, bytes[start + 1] == UInt8(ascii: "-"), bytes[start + 2] == UInt8(ascii: "1"),
           bytes[start + 3] == cr, bytes[start + 4] == lf, maxLineBytes >= 2 {
            return start + 5  // the null bulk string
        }
        var cursor = start + 1
        var length = 0
        while cursor < bytes.count, cursor - start <= 9 {
            let digit = bytes[cursor] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            length = length &* 10 &+ Int(digit)
            cursor += 1
        }
        let digits = cursor - start - 1
        guard digits > 0, digits <= maxLineBytes, length <= maxBulkBytes, cursor + 1 < bytes.count,
              bytes[cursor] == cr, bytes[cursor + 1] == lf else { return nil }
        let payloadEnd = cursor + 2 + length
        guard payloadEnd + 1 < bytes.count, bytes[payloadEnd] == cr, bytes[payloadEnd + 1] == lf else { return nil }
        return payloadEnd + 2
    }

    /// Finds the CR of the CRLF ending the line that starts at `start`.
    /// - Returns: The index of CR, or `nil` when the line is not complete yet.
    private func findLineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) throws(RESPProtocolError) -> Int? {
        let limit = Swift.min(bytes.count, start + maxLineBytes + 1)
        var index = start
        while index < limit {
            let byte = bytes[index]
            if byte == cr {
                guard index + 1 < bytes.count else { return nil }
                guard bytes[index + 1] == lf else {
                    throw RESPProtocolError(.missingCRLF, "CR not followed by LF")
                }
                return index
            }
            if byte == lf {
                throw RESPProtocolError(.missingCRLF, "LF without a preceding CR")
            }
            index += 1
        }
        if bytes.count - start > maxLineBytes {
            throw RESPProtocolError(.lineTooLong, "line longer than \(maxLineBytes) bytes")
        }
        return nil
    }

    /// Parses a bulk or array length: `-1` for RESP null, otherwise a non-negative count.
    private func parseLength(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(RESPProtocolError) -> Int {
        guard let value = parseInteger(bytes, range), value >= -1, value <= Int64(Int32.max) * 4 else {
            throw RESPProtocolError(.invalidLength, "length is not -1 or a non-negative decimal integer")
        }
        return Int(value)
    }

    /// Parses an optionally negative decimal integer with no sign other than `-` and no whitespace.
    private func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        RESPValue.decimal(UnsafeBufferPointer(rebasing: bytes[range]), allowsPlus: false)
    }
}
