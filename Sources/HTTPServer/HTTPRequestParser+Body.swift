extension HTTPRequestParser {
    /// Reads the body announced by the last parsed head.
    ///
    /// `Content-Length` bodies are returned once all bytes are buffered; chunked bodies are decoded
    /// as they arrive (chunk extensions ignored, trailers checked for syntax and size, then dropped).
    /// - Returns: The decoded body (empty when there is none), or nil if more bytes are needed.
    /// - Throws: ``HTTPProtocolError/payloadTooLarge`` when the body exceeds `maxBodyBytes`,
    ///   ``HTTPProtocolError/malformed(_:)`` on bad chunk framing,
    ///   ``HTTPProtocolError/headerTooLarge`` when the trailers exceed `maxHeaderBytes`.
    public mutating func parseBody() throws(HTTPProtocolError) -> [UInt8]? {
        switch phase {
        case .head, .complete:
            throw .malformed("parseBody called without a parsed head")
        case .body(.none):
            phase = .complete
            return []
        case .body(.contentLength(let length)):
            guard length <= limits.maxBodyBytes else { throw .payloadTooLarge }
            guard bufferedByteCount >= length else {
                if buffer.capacity < readIndex + length { buffer.reserveCapacity(readIndex + length) }
                return nil
            }
            let body = Array(buffer[readIndex..<(readIndex + length)])
            readIndex += length
            consumedBytes += length
            phase = .complete
            return body
        case .body(.chunked):
            phase = .chunked(.size)
            return try decodeChunks()
        case .chunked:
            return try decodeChunks()
        }
    }

    /// Consumes and drops a `Content-Length` body (used after an early answer to the head).
    /// - Returns: True once the whole body has been consumed.
    /// - Throws: ``HTTPProtocolError/malformed(_:)`` when the body is not `Content-Length` framed.
    public mutating func discardBody() throws(HTTPProtocolError) -> Bool {
        switch phase {
        case .body(.none), .complete:
            phase = .complete
            return true
        case .body(.contentLength(let remaining)):
            let take = min(remaining, bufferedByteCount)
            readIndex += take
            consumedBytes += take
            if take == remaining {
                phase = .complete
                return true
            }
            phase = .body(.contentLength(remaining - take))
            compactIfWorthwhile()
            return false
        default:
            throw .malformed("only Content-Length bodies can be discarded")
        }
    }

    /// Decodes as much of a chunked body as is buffered (RFC 9112 §7.1).
    mutating func decodeChunks() throws(HTTPProtocolError) -> [UInt8]? {
        while case .chunked(let chunkPhase) = phase {
            switch chunkPhase {
            case .size:
                guard let line = try takeLine(limit: limits.maxChunkLineBytes, tooLong: .malformed("chunk size line too long")) else {
                    return nil
                }
                let size = try parseChunkSize(line)
                if size == 0 {
                    phase = .chunked(.trailers(bytes: 0))
                } else {
                    guard size <= limits.maxBodyBytes - decodedBody.count else { throw .payloadTooLarge }
                    phase = .chunked(.data(remaining: size))
                }
            case .data(let remaining):
                let take = min(remaining, bufferedByteCount)
                guard take > 0 else { return nil }
                decodedBody.append(contentsOf: buffer[readIndex..<(readIndex + take)])
                readIndex += take
                consumedBytes += take
                phase = .chunked(take == remaining ? .dataEnd : .data(remaining: remaining - take))
            case .dataEnd:
                guard bufferedByteCount >= 2 else { return nil }
                guard buffer[readIndex] == ASCII.cr, buffer[readIndex + 1] == ASCII.lf else {
                    throw .malformed("chunk data not followed by CRLF")
                }
                readIndex += 2
                consumedBytes += 2
                phase = .chunked(.size)
            case .trailers(let seen):
                let room = limits.maxHeaderBytes - seen
                guard let line = try takeLine(limit: room, tooLong: .headerTooLarge) else { return nil }
                if line.isEmpty {
                    phase = .complete
                    let body = decodedBody
                    decodedBody = []
                    return body
                }
                if let first = line.first, first == ASCII.space || first == ASCII.tab {
                    throw .malformed("obsolete line folding in trailer")
                }
                guard let colon = line.firstIndex(of: ASCII.colon), colon > line.startIndex,
                      line[line.startIndex..<colon].allSatisfy(ASCII.isTokenChar),
                      line[(colon + 1)...].allSatisfy(ASCII.isFieldValueChar)
                else {
                    throw .malformed("bad trailer field")
                }
                phase = .chunked(.trailers(bytes: seen + line.count + 2))
            }
        }
        return nil
    }

    /// Takes one CRLF-terminated line from the buffer, without its CRLF.
    /// - Parameters:
    ///   - limit: Longest allowed line content.
    ///   - tooLong: The error to throw past the limit.
    /// - Returns: The line's bytes, or nil if no complete line is buffered yet.
    mutating func takeLine(limit: Int, tooLong: HTTPProtocolError) throws(HTTPProtocolError) -> ArraySlice<UInt8>? {
        let window = buffer[readIndex...]
        guard let lf = window.firstIndex(of: ASCII.lf) else {
            if window.count > limit + 1 { throw tooLong }
            return nil
        }
        guard lf > readIndex, buffer[lf - 1] == ASCII.cr else { throw .malformed("line not terminated by CRLF") }
        let line = buffer[readIndex..<(lf - 1)]
        if line.count > limit { throw tooLong }
        if line.contains(ASCII.cr) { throw .malformed("bare CR") }
        consumedBytes += lf + 1 - readIndex
        readIndex = lf + 1
        return line
    }

    /// Parses `chunk-size [ chunk-ext ]`: hex digits, then optional whitespace and `;`-led extensions (ignored).
    func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPProtocolError) -> Int {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = ASCII.hexValue(line[index]) {
            guard size <= (Int.max - digit) / 16 else { throw .payloadTooLarge }
            size = size * 16 + digit
            index += 1
        }
        guard index > line.startIndex else { throw .malformed("bad chunk size") }
        while index < line.endIndex, line[index] == ASCII.space || line[index] == ASCII.tab { index += 1 }
        if index < line.endIndex {
            guard line[index] == ASCII.semicolon else { throw .malformed("bad chunk size") }
            guard line[index...].allSatisfy(ASCII.isFieldValueChar) else { throw .malformed("bad chunk extension") }
        }
        return size
    }
}
