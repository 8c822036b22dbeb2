import Glibc
import Telemetry

extension HTTPResponse {
    /// The standard reason phrase for a status code ([RFC 9110 §15](https://www.rfc-editor.org/rfc/rfc9110#section-15)),
    /// or an empty string for unknown codes.
    /// - Parameter status: The status code.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 425: "Too Early"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }

    /// Whether a response with this status never has a body (1xx, 204, 304).
    static func forbidsBody(_ status: Int) -> Bool {
        (100..<200).contains(status) || status == 204 || status == 304
    }

    /// `HTTP/1.1 <status> <reason>\r\n` for every status from 100 to 599, encoded once.
    private static let statusLines: [[UInt8]] = (100..<600).map { Array("HTTP/1.1 \($0) \(reasonPhrase(for: $0))\r\n".utf8) }

    /// Appends the wire form of this response to `output` (RFC 9112 §4 and §6).
    ///
    /// The handler's `Connection` and `Transfer-Encoding` fields are replaced by the server's decisions; `Content-Length` is added
    /// unless present or forbidden; `Date` is added unless present. The body is left out for HEAD, 204 and 304.
    /// - Parameters:
    ///   - output: The buffer to append to (one write per response).
    ///   - requestMethod: The request's method (nil when unknown), to leave the body out for HEAD.
    ///   - requestVersion: The request's version; HTTP/1.0 keep-alive is confirmed with `Connection: keep-alive`.
    ///   - keepAlive: Whether the connection stays open after this response.
    ///   - date: The current `Date` value.
    /// - Returns: Whether the connection stays open: `keepAlive`, unless the handler's `Connection` field lists
    ///   `close` (found in the pass that writes the fields, not in a scan of its own beforehand).
    @discardableResult
    func serialize(
        into output: inout [UInt8],
        requestMethod: HTTPMethod?,
        requestVersion: HTTPVersion?,
        keepAlive: Bool,
        date: String
    ) -> Bool {
        var keepAlive = keepAlive
        let noBody = Self.forbidsBody(status)
        let sendBody = !noBody && requestMethod != .HEAD
        // The head is written into stack memory sized for its longest form, then appended in one copy:
        // appending each piece to the array cost a uniqueness and capacity check apiece.
        var bound = 48 + Self.reserved.count + date.utf8.count + DecimalDigits.maxLength
        for (name, value) in headers { bound += name.utf8.count + value.utf8.count + 4 }
        output.reserveCapacity(output.count + bound + (sendBody ? body.count : 0))
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            var head = HeadWriter(buffer: buffer)
            if (100..<600).contains(status) {
                head.put(Self.statusLines[status - 100])
            } else {
                head.put(Array("HTTP/1.1 \(status) \r\n".utf8))
            }
            var hasLength = false
            var hasDate = false
            for (name, value) in headers {
                // Only names starting with c, t or d can be one the server manages: most fields skip every comparison.
                switch (name.utf8.first ?? 0) | 0x20 {
                case UInt8(ascii: "c"):
                    // The server owns framing and connection management: it never chunks responses.
                    if HTTPHeaders.namesEqual(name, "Connection") {
                        if keepAlive && HTTPHeaders.list(value, containsToken: "close") { keepAlive = false }
                        continue
                    }
                    if HTTPHeaders.namesEqual(name, "Content-Length") {
                        if noBody { continue }
                        hasLength = true
                    }
                case UInt8(ascii: "t"):
                    if HTTPHeaders.namesEqual(name, "Transfer-Encoding") { continue }
                case UInt8(ascii: "d"):
                    if HTTPHeaders.namesEqual(name, "Date") { hasDate = true }
                default:
                    break
                }
                head.field(name, value)
            }
            if !hasLength && !noBody {
                head.put("Content-Length: ")
                head.decimal(body.count)
                head.put("\r\n")
            }
            if !hasDate { head.field("Date", date) }
            if !keepAlive {
                head.put("Connection: close\r\n")
            } else if requestVersion == .http1_0 {
                head.put("Connection: keep-alive\r\n")
            }
            head.put("\r\n")
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<head.count]))
        }
        if sendBody { output.append(contentsOf: body) }
        return keepAlive
    }

    /// The longest lines the server writes on its own beside the handler's fields: the `Content-Length`,
    /// `Date` and `Connection` names and the blank line (their values are bounded separately).
    private static let reserved = "Content-Length: \r\nDate: \r\nConnection: keep-alive\r\n\r\n".utf8

    /// Writes a response head into memory sized for it by `serialize`.
    private struct HeadWriter: ~Copyable {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            (buffer.baseAddress! + count).initialize(from: source, count: bytes.count)
            count += bytes.count
        }

        mutating func put(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { put($0) }
        }

        /// A constant, such as `Connection: close\r\n`.
        mutating func put(_ text: StaticString) {
            put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        mutating func decimal(_ value: Int) {
            count += DecimalDigits.write(Int64(value), to: buffer.baseAddress! + count)
        }

        /// `name: value\r\n`, dropping CR and LF from the value so a handler cannot split the response.
        ///
        /// Both strings are copied from their contiguous UTF-8 storage: appending a `String.UTF8View` went
        /// byte by byte through the generic sequence path.
        mutating func field(_ name: String, _ value: String) {
            var name = name, value = value
            name.withUTF8 { put($0) }
            buffer[count] = UInt8(ascii: ":")
            buffer[count + 1] = UInt8(ascii: " ")
            count += 2
            value.withUTF8 { bytes in
                // memchr rather than a loop over the bytes: a Date or request ID is 20 to 30 of them.
                let base = bytes.baseAddress
                if let base, memchr(base, Int32(ASCII.cr), bytes.count) != nil || memchr(base, Int32(ASCII.lf), bytes.count) != nil {
                    for byte in bytes where byte != ASCII.cr && byte != ASCII.lf {
                        buffer[count] = byte
                        count += 1
                    }
                } else {
                    put(bytes)
                }
            }
            buffer[count] = ASCII.cr
            buffer[count + 1] = ASCII.lf
            count += 2
        }
    }
}

/// Formats `Date` header values (IMF-fixdate, RFC 9110 §5.6.7), caching the text for the current second.
struct HTTPDateCache {
    /// The second the cached text is for.
    private var second: Int = -1
    /// The cached text.
    private var text = ""

    /// The `Date` value for `unixSeconds`.
    mutating func value(at unixSeconds: Int) -> String {
        if unixSeconds != second {
            second = unixSeconds
            text = Self.format(unixSeconds)
        }
        return text
    }

    /// Formats seconds since 1970 as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func format(_ unixSeconds: Int) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secondsOfDay = unixSeconds - days * 86_400
        let (year, month, day) = RFC3339.civilDate(daysSince1970: Int64(days))
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let hour = secondsOfDay / 3600, minute = secondsOfDay / 60 % 60, second = secondsOfDay % 60
        return "\(names[weekday]), \(two(day)) \(months[month - 1]) \(year) \(two(hour)):\(two(minute)):\(two(second)) GMT"
    }
}
