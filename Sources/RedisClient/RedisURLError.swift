/// A Redis URL that ``RedisURL/init(parsing:)`` could not parse. The message never contains the password.
public struct RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the URL, e.g. `invalid port "99999"`.
    public let message: String

    /// Creates an error.
    /// - Parameter message: What is wrong with the URL; must not contain the password.
    public init(_ message: String) {
        self.message = message
    }

    /// `invalid Redis URL: <message>`.
    public var description: String { "invalid Redis URL: \(message)" }
}
