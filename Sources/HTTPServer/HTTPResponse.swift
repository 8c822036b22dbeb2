/// A response produced by an ``HTTPHandler``.
///
/// The server adds `Content-Length` (except for 1xx, 204 and 304) unless present, `Connection`
/// as needed, and `Date`. For `HEAD` requests and for 204 and 304 the body is never sent.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields to send, in order.
    public var headers: HTTPHeaders
    /// The complete body.
    public var body: [UInt8]

    /// Creates a response.
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: Header fields to send.
    ///   - body: The complete body.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
