import HTTPServer
import Synchronization

/// Bearer-token auth (DESIGN §9): which token a request carries, and whether it may do what it asks.
///
/// Off unless `--auth-tokens-file` or `--metrics-token-file` is set. Presented tokens are hashed
/// with SHA-256 and compared with every known digest in constant time, so neither the comparison
/// nor which token matched shows in the timing.
final class Authenticator: Sendable {
    /// Why a request was refused, the `reason` label of `agentstate_auth_failures_total`.
    enum FailureReason: String, Sendable, CaseIterable {
        /// No `Authorization` header.
        case missing
        /// Not `Bearer <token>`, or a token nobody knows.
        case invalid
        /// A known token that does not cover the agent, or a read token on a mutation.
        case forbidden
    }

    /// The outcome for one request.
    enum Decision: Sendable, Equatable {
        /// Go on; the token's name when a token was needed and given.
        case allowed(tokenName: String?)
        case refused(FailureReason)
    }

    /// The tokens file, when auth of the API routes is on.
    let tokensPath: String?
    /// The tokens now in force; replaced whole by a reload.
    private let tokens: Mutex<[AccessToken]>
    /// SHA-256 of the `/metrics` token, when `/metrics` is protected.
    private let metricsDigest: [UInt8]?

    /// - Parameters:
    ///   - tokensPath: The tokens file, or nil to leave the API routes open.
    ///   - tokens: Its parsed content.
    ///   - metricsToken: The token `/metrics` requires, or nil to leave it open.
    init(tokensPath: String?, tokens: [AccessToken], metricsToken: String?) {
        self.tokensPath = tokensPath
        self.tokens = Mutex(tokens)
        self.metricsDigest = metricsToken.map { SHA256.digest(Array($0.utf8)) }
    }

    /// Auth off everywhere.
    static let disabled = Authenticator(tokensPath: nil, tokens: [], metricsToken: nil)

    /// Decides a request that has matched `route` with an allowed `method`.
    /// - Parameters:
    ///   - agentSegment: The path's agent segment, raw; patterns are matched against its decoded form.
    ///   - authorization: The `Authorization` header, if any.
    ///   Both are read only when the route needs a token (with auth off, never: finding them cost about
    ///   550 instructions a request).
    func decide(route: Route, method: HTTPMethod, agentSegment readAgentSegment: @autoclosure () -> Substring?,
                authorization readAuthorization: @autoclosure () -> String?) -> Decision {
        switch route {
        case .healthz, .readyz, .openapi:
            return .allowed(tokenName: nil)
        case .metrics:
            guard let metricsDigest else { return .allowed(tokenName: nil) }
            guard let authorization = readAuthorization() else { return .refused(.missing) }
            guard let presented = Self.bearerToken(authorization),
                  SHA256.constantTimeEqual(SHA256.digest(Array(presented.utf8)), metricsDigest) else {
                return .refused(.invalid)
            }
            return .allowed(tokenName: "metrics")
        default:
            guard tokensPath != nil else { return .allowed(tokenName: nil) }
            guard let authorization = readAuthorization() else { return .refused(.missing) }
            guard let presented = Self.bearerToken(authorization), let token = match(presented) else { return .refused(.invalid) }
            let agent = readAgentSegment().map { segment in
                (try? RouteMatch.decodeID(segment, name: "agent_id")).map { Substring($0) } ?? segment
            } ?? ""
            let mutates = method != .GET && method != .HEAD
            guard token.covers(agent: agent), token.allows(mutation: mutates) else { return .refused(.forbidden) }
            return .allowed(tokenName: token.name)
        }
    }

    /// The known token whose digest equals the presented token's, checking every one of them.
    private func match(_ presented: Substring) -> AccessToken? {
        let digest = SHA256.digest(Array(presented.utf8))
        return tokens.withLock { tokens in
            var found: AccessToken?
            for token in tokens where SHA256.constantTimeEqual(token.digest, digest) { found = token }
            return found
        }
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1), or nil when malformed.
    static func bearerToken(_ authorization: String) -> Substring? {
        let value = authorization[...]
        guard let space = value.firstIndex(of: " "), value[..<space].lowercased() == "bearer" else { return nil }
        let token = value[value.index(after: space)...].drop(while: { $0 == " " })
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return token
    }

    /// Reads the tokens file again and puts it in force, or keeps the old tokens if it does not parse.
    /// - Returns: How many tokens are now in force.
    /// - Throws: `ConfigurationError` or `TokenFile.ParseError`, the old tokens still in force.
    @discardableResult
    func reload() throws -> Int {
        guard let tokensPath else { return 0 }
        let loaded = try Self.loadTokens(path: tokensPath)
        tokens.withLock { $0 = loaded }
        return loaded.count
    }

    /// Reads and parses a tokens file.
    static func loadTokens(path: String) throws -> [AccessToken] {
        try TokenFile.parse(SecretFile(path: path, flag: "--auth-tokens-file").content)
    }
}
