import Glibc

/// Byte constants and character classes from RFC 9110 §5.6.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let question: UInt8 = 0x3F
    static let slash: UInt8 = 0x2F
    static let star: UInt8 = 0x2A

    /// `tchar` (RFC 9110 §5.6.2): the characters of a token such as a method or field name.
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// `field-vchar` plus SP and HTAB (RFC 9110 §5.5): what may appear inside a field value.
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// The value of a hex digit, or nil.
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}

extension HTTPRequestParser {
    /// Parses the request line and header section once they are complete.
    ///
    /// On success the parser moves on to the body; call `parseBody()` (or `discardBody()`) next.
    /// The head's `receivedAtNanos` is the time of this call; the server overwrites it with the arrival time.
    /// - Returns: The head and how its body is framed, or nil if more bytes are needed.
    /// - Throws: ``HTTPProtocolError/uriTooLong``, ``HTTPProtocolError/headerTooLarge`` or
    ///   ``HTTPProtocolError/malformed(_:)``.
    public mutating func parseHead() throws(HTTPProtocolError) -> (head: HTTPRequestHead, framing: BodyFraming)? {
        guard phase == .head else { throw .malformed("parseHead called in the middle of a request") }
        if scanOffset == 0 { skipLeadingEmptyLines() }
        guard let headEnd = try findHeadEnd() else { return nil }
        let head = try buildHead()
        let framing = try Self.framing(of: head.headers, version: head.version)
        readIndex += headEnd
        consumedBytes += headEnd
        scanOffset = 0
        lineStartOffset = 0
        fieldsStartOffset = nil
        fieldLines.removeAll(keepingCapacity: true)
        phase = .body(framing)
        return (head, framing)
    }

    /// Skips CRLF pairs before a request line (RFC 9112 §2.2), counting them as consumed.
    mutating func skipLeadingEmptyLines() {
        while buffer.count - readIndex >= 2, buffer[readIndex] == ASCII.cr, buffer[readIndex + 1] == ASCII.lf {
            readIndex += 2
            consumedBytes += 2
        }
    }

    /// Scans for the end of the head, recording line positions and enforcing the size limits.
    /// - Returns: The head's length in bytes (offset just past the final CRLF), or nil if incomplete.
    mutating func findHeadEnd() throws(HTTPProtocolError) -> Int? {
        var available = buffer.count - readIndex
        while scanOffset < available {
            let byte = buffer[readIndex + scanOffset]
            if byte == ASCII.lf {
                let lineEnd = scanOffset  // offset of LF
                guard lineEnd > lineStartOffset, buffer[readIndex + lineEnd - 1] == ASCII.cr else {
                    throw .malformed("line not terminated by CRLF")
                }
                let content = lineStartOffset..<(lineEnd - 1)
                scanOffset += 1
                lineStartOffset = scanOffset
                if let fieldsStart = fieldsStartOffset {
                    if content.isEmpty {
                        if content.lowerBound - fieldsStart > limits.maxHeaderBytes { throw .headerTooLarge }
                        return scanOffset
                    }
                    fieldLines.append(content)
                    if scanOffset - fieldsStart > limits.maxHeaderBytes { throw .headerTooLarge }
                    // fieldLines[0] is the request line.
                    if fieldLines.count - 1 > limits.maxHeaderFields { throw .headerTooLarge }
                } else if content.isEmpty {
                    // An empty line before the request line (split across reads): skip it.
                    readIndex += scanOffset
                    consumedBytes += scanOffset
                    available -= scanOffset
                    scanOffset = 0
                    lineStartOffset = 0
                } else {
                    if content.count > limits.maxRequestLineBytes { throw .uriTooLong }
                    fieldsStartOffset = scanOffset
                    fieldLines.append(content)  // index 0 is the request line
                }
            } else if byte == ASCII.cr {
                // Decide on a CR once the byte after it is here, so that a bare CR is refused however the
                // bytes are split into reads (found by Fuzz/FuzzHTTPParser).
                guard scanOffset + 1 < available else { break }
                guard buffer[readIndex + scanOffset + 1] == ASCII.lf else { throw .malformed("bare CR") }
                scanOffset += 1
            } else {
                // Skip to the next CR or LF in one tight pass (most bytes of a head are neither).
                let from = readIndex + scanOffset
                let next = buffer.withUnsafeBufferPointer { bytes in
                    var index = from + 1
                    while index < bytes.count, bytes[index] != ASCII.cr, bytes[index] != ASCII.lf { index += 1 }
                    return index
                }
                scanOffset = next - readIndex
            }
        }
        // Incomplete: refuse early once the limits are certainly exceeded.
        if let fieldsStart = fieldsStartOffset {
            if available - fieldsStart > limits.maxHeaderBytes + 1 { throw .headerTooLarge }
        } else if available > limits.maxRequestLineBytes + 1 {
            throw .uriTooLong
        }
        return nil
    }

    /// Builds the head from the recorded lines.
    ///
    /// Every line is read through one pointer into the buffer: slicing the array per line and walking the
    /// slices through their generic iterators (`firstIndex`, `allSatisfy`) cost about 1,200 instructions a request.
    func buildHead() throws(HTTPProtocolError) -> HTTPRequestHead {
        let result = buffer.withUnsafeBufferPointer { bytes -> Result<HTTPRequestHead, HTTPProtocolError> in
            let base = readIndex
            func line(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: bytes[(base + range.lowerBound)..<(base + range.upperBound)])
            }
            do throws(HTTPProtocolError) {
                let (method, target, version) = try Self.parseRequestLine(line(fieldLines[0]))
                var headers = HTTPHeaders(capacity: fieldLines.count - 1)
                var hosts = 0
                for index in fieldLines.indices.dropFirst() {
                    let (name, value, isHost) = try Self.parseFieldLine(line(fieldLines[index]))
                    if isHost { hosts += 1 }
                    headers.add(name, value)
                }
                // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host; no request may carry two.
                if hosts > 1 || (version == .http1_1 && hosts == 0) {
                    throw HTTPProtocolError.malformed(hosts == 0 ? "missing Host header" : "more than one Host header")
                }
                return .success(HTTPRequestHead(method: method, target: target, version: version, headers: headers))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses `method SP request-target SP HTTP-version` (RFC 9112 §3).
    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPProtocolError) -> (HTTPMethod, String, HTTPVersion) {
        guard let firstSpace = index(of: ASCII.space, in: line, from: 0) else { throw .malformed("bad request line") }
        let methodBytes = UnsafeBufferPointer(rebasing: line[..<firstSpace])
        guard !methodBytes.isEmpty, all(methodBytes, ASCII.isTokenChar) else { throw .malformed("bad method") }
        guard let secondSpace = index(of: ASCII.space, in: line, from: firstSpace + 1) else { throw .malformed("bad request line") }
        var target = UnsafeBufferPointer(rebasing: line[(firstSpace + 1)..<secondSpace])
        let versionBytes = UnsafeBufferPointer(rebasing: line[(secondSpace + 1)...])
        // Control characters and spaces are malformed; bytes above 0x7F are passed on, so the router
        // can answer a raw non-ASCII ID with `invalid_id` like its percent-encoded form.
        guard !target.isEmpty, all(target, { $0 > 0x20 && $0 != 0x7F }) else {
            throw .malformed("bad request target")
        }
        let method = knownMethod(methodBytes) ?? HTTPMethod(String(decoding: methodBytes, as: UTF8.self))
        if let originForm = originForm(ofAbsoluteForm: target) {
            target = originForm
        } else if target[0] != ASCII.slash {
            guard target.count == 1, target[0] == ASCII.star, method == .OPTIONS else {
                throw .malformed("unsupported request target form")
            }
        }
        let version: HTTPVersion
        if bytes(versionBytes, equal: "HTTP/1.1") {
            version = .http1_1
        } else if bytes(versionBytes, equal: "HTTP/1.0") {
            version = .http1_0
        } else {
            throw .malformed("unsupported HTTP version")
        }
        var path = String(decoding: target, as: UTF8.self)
        if target.first != ASCII.slash && target.first != ASCII.star { path = "/" + path }  // "http://h" or "http://h?q"
        return (method, path, version)
    }

    /// The shared method value for the methods the service answers, without decoding a string.
    private static func knownMethod(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTPMethod? {
        switch bytes.count {
        case 3: if Self.bytes(bytes, equal: "GET") { return .GET } else if Self.bytes(bytes, equal: "PUT") { return .PUT }
        case 4: if Self.bytes(bytes, equal: "POST") { return .POST } else if Self.bytes(bytes, equal: "HEAD") { return .HEAD }
        case 6: if Self.bytes(bytes, equal: "DELETE") { return .DELETE }
        default: break
        }
        return nil
    }

    /// The index of the first `byte` in `line` at or after `start`, or nil.
    private static func index(of byte: UInt8, in line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < line.count, let base = line.baseAddress,
              let found = memchr(base + start, Int32(byte), line.count - start) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// Whether every byte of `bytes` satisfies `predicate`.
    @inline(__always)
    private static func all(_ bytes: UnsafeBufferPointer<UInt8>, _ predicate: (UInt8) -> Bool) -> Bool {
        for byte in bytes where !predicate(byte) { return false }
        return true
    }

    /// Whether `bytes` are exactly `literal`, compared as bytes.
    static func bytes(_ bytes: UnsafeBufferPointer<UInt8>, equal literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount, let base = bytes.baseAddress else { return false }
        return memcmp(base, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    /// The path and query of an absolute-form target (`http://host:port/path?q`, RFC 9112 §3.2.2),
    /// which a server must accept; nil for any other form.
    static func originForm(ofAbsoluteForm target: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        // The usual origin form ("/…") and "*" are not absolute: no lowered copy of the scheme for them.
        guard let first = target.first, first | 0x20 == UInt8(ascii: "h") else { return nil }
        let lowered = target.prefix(8).map { $0 | 0x20 }
        let schemeLength: Int
        if lowered.starts(with: "http://".utf8) {
            schemeLength = 7
        } else if lowered.starts(with: "https://".utf8) {
            schemeLength = 8
        } else {
            return nil
        }
        var pathStart = schemeLength
        while pathStart < target.count, target[pathStart] != ASCII.slash, target[pathStart] != UInt8(ascii: "?") { pathStart += 1 }
        return UnsafeBufferPointer(rebasing: target[pathStart...])
    }

    /// Parses `field-name ":" OWS field-value OWS` (RFC 9112 §5), rejecting obs-fold and stray whitespace.
    /// - Returns: The name and value, and whether the field is a `Host`.
    static func parseFieldLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPProtocolError) -> (String, String, isHost: Bool) {
        if let first = line.first, first == ASCII.space || first == ASCII.tab {
            throw .malformed("obsolete line folding")
        }
        guard let colon = index(of: ASCII.colon, in: line, from: 0) else { throw .malformed("header field without colon") }
        let nameBytes = UnsafeBufferPointer(rebasing: line[..<colon])
        guard !nameBytes.isEmpty, all(nameBytes, ASCII.isTokenChar) else {
            throw .malformed("bad header field name")
        }
        var valueStart = colon + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == ASCII.space || line[valueStart] == ASCII.tab {
            valueStart += 1
        }
        while valueEnd > valueStart, line[valueEnd - 1] == ASCII.space || line[valueEnd - 1] == ASCII.tab {
            valueEnd -= 1
        }
        let valueBytes = UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd])
        guard all(valueBytes, ASCII.isFieldValueChar) else { throw .malformed("bad header field value") }
        let isHost = nameBytes.count == 4 && (nameBytes[0] | 0x20) == UInt8(ascii: "h") && (nameBytes[1] | 0x20) == UInt8(ascii: "o")
            && (nameBytes[2] | 0x20) == UInt8(ascii: "s") && (nameBytes[3] | 0x20) == UInt8(ascii: "t")
        return (String(decoding: nameBytes, as: UTF8.self), String(decoding: valueBytes, as: UTF8.self), isHost)
    }

    /// Decides how the body is delimited (RFC 9112 §6.3), rejecting ambiguous framing.
    static func framing(of headers: HTTPHeaders, version: HTTPVersion) throws(HTTPProtocolError) -> BodyFraming {
        // Most requests have neither field: look before collecting.
        let transferEncodings = headers.contains("Transfer-Encoding") ? headers.values("Transfer-Encoding") : []
        let contentLengths = headers.contains("Content-Length") ? headers.values("Content-Length") : []
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { throw .malformed("both Content-Length and Transfer-Encoding") }
            let codings = transferEncodings
                .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { $0.trimmingASCIIWhitespace() }
            guard codings.count == 1, HTTPHeaders.namesEqual(String(codings[0]), "chunked") else {
                throw .malformed("unsupported transfer coding")
            }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return .none }
        var length: Int?
        for value in contentLengths {
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                let parsed = try parseContentLength(part.trimmingASCIIWhitespace())
                if let length, length != parsed { throw .malformed("conflicting Content-Length") }
                length = parsed
            }
        }
        return .contentLength(length ?? 0)
    }

    /// Parses `1*DIGIT`; values too large for `Int` saturate at `Int.max` (refused later as too large).
    static func parseContentLength(_ text: Substring) throws(HTTPProtocolError) -> Int {
        guard !text.isEmpty else { throw .malformed("empty Content-Length") }
        var value = 0
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { throw .malformed("invalid Content-Length") }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
            value = (overflow1 || overflow2) ? Int.max : sum
        }
        return value
    }
}
