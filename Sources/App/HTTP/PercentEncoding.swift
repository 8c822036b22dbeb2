/// Percent-decoding of path segments and query components (RFC 3986 §2.1).
enum PercentEncoding {
    /// Decodes `%XX` escapes. Returns nil for a malformed escape. `+` is kept as-is.
    static func decode<C: Collection>(_ input: C) -> [UInt8]? where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var iterator = input.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                output.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(JSONScanner.hexValue),
                  let low = iterator.next().flatMap(JSONScanner.hexValue) else { return nil }
            output.append(UInt8(high << 4 | low))
        }
        return output
    }
}
