/// Where and how to reach a Redis server: `redis://[user[:password]@]host[:port][,host[:port]…][/db]`.
///
/// Several hosts are for Sentinel mode, where they name the sentinels (``additionalHosts``);
/// a connection always goes to ``host`` and ``port``.
///
/// The ``description`` redacts the password (`redis://user:***@host:6379/0`), so a `RedisURL` may be
/// logged. `rediss://` connects with TLS (see ``TLSConfiguration``).
/// See [the URI scheme](https://www.iana.org/assignments/uri-schemes/prov/redis).
public struct RedisURL: Sendable, Equatable {
    /// The URL scheme. Shaped so that Sentinel and Cluster variants can be added later.
    public enum Scheme: String, Sendable, Equatable {
        /// Plain TCP.
        case redis
        /// TLS over TCP.
        case rediss
    }

    /// The default Redis port.
    public static let defaultPort = 6379

    /// The scheme.
    public var scheme: Scheme
    /// The host name or IP address, without brackets for IPv6 (`::1`).
    public var host: String
    /// The TCP port, 1–65535.
    public var port: Int
    /// The ACL user name for `AUTH user password`, or `nil` for `AUTH password` / the default user.
    public var username: String?
    /// The password, percent-decoded; `nil` when no `AUTH` is sent.
    public var password: String?
    /// The logical database selected with `SELECT` after connecting; 0 by default.
    public var database: Int
    /// The hosts after the first, in URL order (`redis://a:1,b:2` → `b:2`); empty for one host.
    public var additionalHosts: [RedisEndpoint] = []

    /// Every host of the URL, the first (``host``, ``port``) first.
    public var endpoints: [RedisEndpoint] { [RedisEndpoint(host: host, port: port)] + additionalHosts }

    /// This URL with ``host`` and ``port`` set to `endpoint` and no additional hosts: the same
    /// scheme, credentials and database, aimed at one server.
    public func aimed(at endpoint: RedisEndpoint) -> RedisURL {
        var url = self
        url.host = endpoint.host
        url.port = endpoint.port
        url.additionalHosts = []
        return url
    }

    /// Creates a URL from its parts.
    /// - Parameters:
    ///   - scheme: `redis` or `rediss`.
    ///   - host: The host name or IP address.
    ///   - port: The TCP port.
    ///   - username: The ACL user name, if any.
    ///   - password: The password, if any.
    ///   - database: The database number.
    public init(
        scheme: Scheme = .redis, host: String, port: Int = RedisURL.defaultPort,
        username: String? = nil, password: String? = nil, database: Int = 0
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[user[:password]@]host[:port][,host[:port]…][/db]` or the `rediss://` form.
    ///
    /// User name and password are percent-decoded; an empty user name means the default user.
    /// IPv6 hosts are written in brackets (`redis://[::1]:6380`). The port defaults to 6379 and the database to 0.
    /// - Parameter string: The URL.
    /// - Throws: ``RedisURLError`` with a message that never contains the password.
    public init(parsing string: String) throws(RedisURLError) {
        guard let separator = string.firstRange(of: "://") else {
            throw RedisURLError("expected redis://[user[:password]@]host[:port][/db]")
        }
        let schemeText = string[..<separator.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw RedisURLError("unsupported scheme \"\(schemeText.prefix(16))\" (expected redis or rediss)")
        }
        var rest = string[separator.upperBound...]
        // Strip a query or fragment; no options are defined yet.
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<cut]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        // The last "@" ends the user info, so an unencoded "@" in a password still works.
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]

        var username: String?
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try Self.percentDecode(userInfo[..<colon], part: "user name")
                password = try Self.percentDecode(userInfo[userInfo.index(after: colon)...], part: "password")
            } else {
                username = try Self.percentDecode(userInfo, part: "user name")
            }
            if username?.isEmpty == true { username = nil }
        }

        var hosts: [RedisEndpoint] = []
        for part in hostPort.split(separator: ",", omittingEmptySubsequences: false) {
            let (host, port) = try Self.parseHostPort(part)
            hosts.append(RedisEndpoint(host: host, port: port))
        }
        self.init(scheme: scheme, host: hosts[0].host, port: hosts[0].port, username: username, password: password,
                  database: try Self.parseDatabase(path))
        additionalHosts = Array(hosts.dropFirst())
    }

    private static func parseHostPort(_ text: Substring) throws(RedisURLError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw RedisURLError("IPv6 host is missing its closing \"]\"")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw RedisURLError("unexpected characters after the IPv6 host")
                }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { throw RedisURLError("invalid IPv6 host \"\(host.prefix(64))\"") }
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw RedisURLError("missing host") }
        // Visible ASCII only: a host name or address never holds anything else, and a non-ASCII scalar could join
        // the ":" or "," after it into one Character, so that the URL would not split the same way again
        // (found by Fuzz/FuzzRedisURL: U+070F before ":6379").
        guard host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
              !host.contains(where: { $0 == "[" || $0 == "]" || $0 == "%" }) else {
            throw RedisURLError("invalid host \"\(host.prefix(64))\"")
        }
        var port = RedisURL.defaultPort
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed), portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw RedisURLError("invalid port \"\(portText.prefix(16))\" (expected 1-65535)")
            }
            port = parsed
        }
        return (String(host), port)
    }

    private static func parseDatabase(_ path: Substring) throws(RedisURLError) -> Int {
        let text = path.drop(while: { $0 == "/" })
        if text.isEmpty { return 0 }
        guard let database = Int(text), database >= 0, database <= Int(Int32.max), text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw RedisURLError("invalid database \"\(text.prefix(16))\" (expected a non-negative integer)")
        }
        return database
    }

    /// Decodes `%XX` escapes; the error names the part but never echoes its content.
    private static func percentDecode(_ text: Substring, part: String) throws(RedisURLError) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.next().flatMap(hexValue), let low = utf8.next().flatMap(hexValue) else {
                throw RedisURLError("invalid percent-encoding in the \(part)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw RedisURLError("the \(part) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

extension RedisURL: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The URL with the password replaced by `***`, e.g. `redis://user:***@[::1]:6379/0`. Safe to log.
    public var description: String {
        var text = "\(scheme.rawValue)://"
        if let username { text += percentEncode(username) }
        if password != nil { text += ":***" }
        if username != nil || password != nil { text += "@" }
        text += endpoints.map(\.description).joined(separator: ",")
        text += "/\(database)"
        return text
    }

    /// Same as ``description``: the password is redacted.
    public var debugDescription: String { "RedisURL(\(description))" }

    /// A mirror that redacts the password, so `dump` and reflection never print it.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "scheme": scheme, "host": host, "port": port, "username": username as Any,
            "password": password == nil ? "nil" : "***", "database": database,
            "additionalHosts": additionalHosts,
        ])
    }

    private func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}

/// One server's address: a host name or IP address (IPv6 without brackets) and a TCP port.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates an endpoint.
    /// - Parameters:
    ///   - host: The host name or IP address, without brackets for IPv6.
    ///   - port: The TCP port.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, or `[host]:port` for IPv6.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
