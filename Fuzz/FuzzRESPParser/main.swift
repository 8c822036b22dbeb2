// libFuzzer entry for the RESP2 parser (Sources/RedisClient/RESPParser.swift). Build and run with scripts/fuzz.
// Input: byte 0 seeds how the rest is split into reads; the rest is the byte stream from "Redis".
// Oracle: no trap, and feeding the stream in pieces yields the same values as feeding it at once
// (both end in an error, or neither does); frames (nextFrame, value(in:)) give the same values, and each
// value read in place (RESPReply, RESPReader) comes back equal, its reader walking every element.
import RedisClient

private func parser() -> RESPParser {
    RESPParser(maxBulkBytes: 4096, maxArrayCount: 64, maxDepth: 8, maxLineBytes: 128)
}

/// Drains values; returns them and whether parsing ended in an error.
private func drain(_ parser: inout RESPParser, into values: inout [RESPValue]) -> Bool {
    while true {
        do {
            guard let value = try parser.next() else { return false }
            values.append(value)
        } catch {
            return true
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    var seed = UInt64(data[0]) &* 0x9E37_79B9_7F4A_7C15 | 1
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    var whole = parser()
    var wholeValues: [RESPValue] = []
    whole.feed(stream)
    let wholeFailed = drain(&whole, into: &wholeValues)

    var pieces = parser()
    var pieceValues: [RESPValue] = []
    var piecesFailed = false
    var offset = 0
    while offset < stream.count && !piecesFailed {
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
        let length = min(Int(seed % 17) + 1, stream.count - offset)
        pieces.feed(stream[offset..<(offset + length)])
        offset += length
        piecesFailed = drain(&pieces, into: &pieceValues)
    }
    var framed = parser()
    var framedValues: [RESPValue] = []
    framed.feed(stream)
    var framedFailed = false
    while true {
        do {
            guard let frame = try framed.nextFrame() else { break }
            framedValues.append(framed.value(in: frame))
        } catch {
            framedFailed = true
            break
        }
    }
    framed.releaseConsumed()
    precondition(framedFailed == wholeFailed && framedValues == wholeValues, "frames differ from values")
    for value in wholeValues {
        RESPReply.with(value) { reply in
            precondition(reply.value() == value, "a reply read in place differs from its value")
            var reader = reply.reader
            var remaining = 1
            while remaining > 0 {
                guard let element = reader.next() else { preconditionFailure("the reader ran short") }
                remaining -= 1
                if case .array(let count?) = element { remaining += count }
            }
            precondition(reader.next() == nil, "the reader found more than one value")
        }
    }
    if wholeFailed {
        precondition(piecesFailed, "an error when fed whole, none when fed in pieces")
        precondition(wholeValues == Array(pieceValues.prefix(wholeValues.count)) , "values before the error differ")
    } else {
        precondition(!piecesFailed, "an error when fed in pieces, none when fed whole")
        precondition(wholeValues == pieceValues, "values differ between whole and pieces")
        precondition(whole.bufferedByteCount == pieces.bufferedByteCount, "different leftover bytes")
    }
    return 0
}
