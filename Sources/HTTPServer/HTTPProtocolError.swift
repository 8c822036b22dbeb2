/// A request the server refuses at the protocol level; each case is answered and the connection closed.
///
/// The handler renders the response through ``HTTPHandler/protocolError(_:head:receivedAtNanos:)``;
/// ``status`` gives the conventional status code for each case.
public enum HTTPProtocolError: Error, Sendable, Equatable {
    /// Bad syntax or framing (400): request line, header syntax, obs-fold, both `Content-Length` and
    /// `Transfer-Encoding`, conflicting or invalid `Content-Length`, an unsupported transfer coding, bad chunk framing.
    case malformed(String)
    /// The request line is longer than the configured limit (414).
    case uriTooLong
    /// The header fields (or chunked trailers) are larger than the configured limit (431).
    case headerTooLarge
    /// The announced or decoded body is larger than the configured limit (413).
    case payloadTooLarge
    /// The header deadline or the body idle timeout passed (408).
    case requestTimeout

    /// The status code conventionally sent for this error.
    public var status: Int {
        switch self {
        case .malformed: 400
        case .uriTooLong: 414
        case .headerTooLarge: 431
        case .payloadTooLarge: 413
        case .requestTimeout: 408
        }
    }
}
