extension APIError {
    /// 401: no token, a malformed `Authorization`, or a token nobody knows (DESIGN §9).
    static let unauthorized = APIError(
        status: 401, code: "unauthorized", detail: "This route needs a valid bearer token: Authorization: Bearer <token>.",
        headers: [("WWW-Authenticate", #"Bearer realm="agentstate""#)]
    )
    /// 403: a known token that does not cover the agent, or a read token on a mutation.
    static let forbidden = APIError(status: 403, code: "forbidden", detail: "This token does not allow this request on this agent.")
}
