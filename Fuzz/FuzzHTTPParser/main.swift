// libFuzzer entry for the HTTP/1.1 request parser (Sources/HTTPServer/HTTPRequestParser*.swift): request heads,
// Content-Length and chunked bodies, trailers, pipelining. Build and run with scripts/fuzz.
// Input: byte 0 seeds how the rest is split into reads and picks small or default limits; the rest is the
// byte stream from a client. Oracle: no trap; feeding the stream in pieces yields the same requests as feeding
// it at once (both end in a protocol error, or neither does); a parsed body never exceeds the limit.
import HTTPServer

/// One parsed request, reduced to what must not depend on how the bytes arrived.
private struct Parsed: Equatable {
    var method: String
    var target: String
    var headers: [String]
    var body: [UInt8]
    var bytesIn: Int
}

/// Parses requests the way the server does (head first, then the body, or discarding a Content-Length body);
/// returns whether parsing ended in a protocol error.
private func drain(_ parser: inout HTTPRequestParser, discard: Bool, into out: inout [Parsed], pending: inout Parsed?) -> Bool {
    do throws(HTTPProtocolError) {
        while true {
            if pending == nil {
                guard let (head, _) = try parser.parseHead() else { return false }
                pending = Parsed(method: head.method.rawValue, target: head.target,
                                 headers: head.headers.map { "\($0.name): \($0.value)" }, body: [], bytesIn: 0)
            }
            if discard, try parser.discardBody() {
                // Content-Length (or no) body dropped, as after an early answer.
            } else if discard {
                return false
            } else {
                guard let body = try parser.parseBody() else { return false }
                precondition(body.count <= parser.limits.maxBodyBytes, "body over the limit")
                pending!.body = body
            }
            pending!.bytesIn = parser.consumedBytes
            out.append(pending!)
            pending = nil
            parser.startNextRequest()
        }
    } catch {
        precondition([400, 413, 414, 431].contains(error.status), "unexpected status \(error.status)")
        return true
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    var seed = UInt64(control) &* 0x9E37_79B9_7F4A_7C15 | 1
    let limits = control & 0x80 == 0
        ? HTTPRequestParser.Limits(maxRequestLineBytes: 96, maxHeaderBytes: 256, maxBodyBytes: 300, maxChunkLineBytes: 24,
                                   maxHeaderFields: 6)
        : HTTPRequestParser.Limits()
    // Discarding only works for Content-Length bodies; a chunked body makes both runs throw the same way.
    let discard = control & 0x40 != 0
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    var whole = HTTPRequestParser(limits: limits)
    var wholeOut: [Parsed] = []
    var wholePending: Parsed?
    whole.append(contentsOf: stream)
    let wholeFailed = drain(&whole, discard: discard, into: &wholeOut, pending: &wholePending)

    var pieces = HTTPRequestParser(limits: limits)
    var piecesOut: [Parsed] = []
    var piecesPending: Parsed?
    var piecesFailed = false
    var offset = 0
    while offset < stream.count && !piecesFailed {
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
        let length = min(Int(seed % 23) + 1, stream.count - offset)
        stream[offset..<(offset + length)].withUnsafeBytes { pieces.append($0) }
        offset += length
        piecesFailed = drain(&pieces, discard: discard, into: &piecesOut, pending: &piecesPending)
    }
    precondition(wholeFailed == piecesFailed, "whole failed: \(wholeFailed), pieces failed: \(piecesFailed)")
    precondition(wholeOut == piecesOut, "requests differ between whole and pieces")
    if !wholeFailed {
        precondition(whole.bufferedByteCount == pieces.bufferedByteCount, "different leftover bytes")
    }
    return 0
}
