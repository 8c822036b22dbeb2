/// An HTTP request method, such as `GET` or `PUT`.
///
/// Methods are case-sensitive tokens ([RFC 9110 §9.1](https://www.rfc-editor.org/rfc/rfc9110#section-9.1)),
/// so `get` and `GET` are different methods. Any token is representable; the common ones are static members.
public struct HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    /// The method token exactly as sent, e.g. `"GET"`.
    public let rawValue: String

    /// Creates a method from its token.
    /// - Parameter rawValue: The method token, e.g. `"PATCH"`.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// The method token.
    public var description: String { rawValue }

    /// `GET`: transfer a current representation of the target resource.
    public static let GET = HTTPMethod("GET")
    /// `HEAD`: like `GET`, but the response carries no body.
    public static let HEAD = HTTPMethod("HEAD")
    /// `POST`: process the enclosed representation.
    public static let POST = HTTPMethod("POST")
    /// `PUT`: replace the target resource with the enclosed representation.
    public static let PUT = HTTPMethod("PUT")
    /// `DELETE`: remove the target resource.
    public static let DELETE = HTTPMethod("DELETE")
    /// `OPTIONS`: describe the communication options for the target.
    public static let OPTIONS = HTTPMethod("OPTIONS")
    /// `PATCH`: apply partial modifications to the target resource.
    public static let PATCH = HTTPMethod("PATCH")
}
