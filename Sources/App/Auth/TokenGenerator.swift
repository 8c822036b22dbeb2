/// `agentstate token`: a new random bearer token and the tokens-file line that admits it, so
/// nobody has to hash a token by hand.
enum TokenGenerator {
    /// A new token: `ast_` and 64 hex digits of 256 bits from the system's CSPRNG (`getrandom`).
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        digits.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 60, through: 0, by: -4) { digits.append(hex[Int((word >> UInt64(shift)) & 0xF)]) }
        }
        return "ast_" + String(decoding: digits, as: UTF8.self)
    }

    /// What the command prints: the token, then its line for `--auth-tokens-file`.
    static func output(for request: TokenRequest, token: String = newToken()) -> String {
        """
        # Give this token to the client; it is not stored anywhere and cannot be shown again:
        \(token)
        # Add this line to the --auth-tokens-file, then send SIGHUP to agentstate (or restart it):
        \(request.name) \(SHA256.hexDigest(Array(token.utf8))) \(request.access) \(request.agents)

        """
    }
}
