/// An error reply sent by the Redis server (`-ERR …`, `-WRONGTYPE …`, `-NOSCRIPT …`).
///
/// The connection stays healthy after such a reply. See
/// [simple errors](https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors).
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole error line without the leading `-`, e.g. `WRONGTYPE Operation against a key holding the wrong kind of value`.
    public let message: String

    /// Creates an error from a server reply line.
    /// - Parameter message: The error line without the leading `-`.
    public init(message: String) {
        self.message = message
    }

    /// The error prefix: the first word of the message, e.g. `ERR`, `WRONGTYPE`, `NOSCRIPT`, `WRONGPASS`.
    public var code: String {
        String(message.prefix(while: { $0 != " " }))
    }

    /// The server's message, e.g. `ERR unknown command 'FOO'`.
    public var description: String { message }
}
