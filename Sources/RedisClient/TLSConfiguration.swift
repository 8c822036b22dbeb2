#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// How to speak TLS to Redis (`rediss://`): whom to trust, which client certificate to show, which name to verify.
public struct TLSConfiguration: Sendable, Equatable {
    /// A PEM bundle of the CAs that may sign the server's certificate; `nil` for the system trust store.
    public var caFile: String?
    /// The client certificate chain (PEM) for mutual TLS; needs ``keyFile``.
    public var certificateFile: String?
    /// The client certificate's private key (PEM, unencrypted).
    public var keyFile: String?
    /// The name sent in SNI and checked against the certificate; `nil` for the host being connected to.
    /// An IP address is checked against the certificate's IP addresses and never sent in SNI.
    public var serverName: String?
    /// Skips verifying the server's certificate. Never the default; only for tests and emergencies.
    public var insecure = false

    /// Creates a configuration; by default the system trust store, no client certificate, the URL's host.
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                serverName: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
        self.insecure = insecure
    }
}

/// A loaded OpenSSL client context (`SSL_CTX`): trust store, client certificate and TLS 1.2 minimum.
///
/// Create one per pool and share it: loading files happens once, here, and every connection's `SSL`
/// is made from it. Creating the first context sets `SIGPIPE` to ignored for the process (when it is
/// at its default), because OpenSSL writes to sockets with `write(2)`, which would raise it.
public final class TLSContext: @unchecked Sendable {
    // @unchecked: the SSL_CTX is configured in init and only read afterwards (SSL_new), which OpenSSL allows from any thread.
    let context: OpaquePointer
    /// The configuration the context was loaded from.
    public let configuration: TLSConfiguration

    /// Loads the trust store and the client certificate.
    /// - Parameter configuration: What to load.
    /// - Throws: ``RedisClientError/Code/invalidConfiguration`` naming the file and OpenSSL's reason when a
    ///   file cannot be read or parsed, or the key does not match the certificate.
    public init(configuration: TLSConfiguration) throws(RedisClientError) {
        Self.ignoreSIGPIPEOnce()
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw RedisClientError(.invalidConfiguration, "cannot create a TLS context: \(TLSErrors.drain())")
        }
        self.context = context
        self.configuration = configuration
        guard copenssl_ctx_set_min_tls12(context) == 1 else {
            throw RedisClientError(.invalidConfiguration, "cannot require TLS 1.2: \(TLSErrors.drain())")
        }
        _ = copenssl_ctx_set_nonblocking_modes(context)
        SSL_CTX_set_verify(context, configuration.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nil)
        if let caFile = configuration.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw RedisClientError(.invalidConfiguration, "cannot load the CA file \(caFile): \(TLSErrors.drain())")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw RedisClientError(.invalidConfiguration, "cannot load the system trust store: \(TLSErrors.drain())")
        }
        switch (configuration.certificateFile, configuration.keyFile) {
        case (nil, nil):
            break
        case let (certificate?, key?):
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw RedisClientError(.invalidConfiguration, "cannot load the client certificate \(certificate): \(TLSErrors.drain())")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw RedisClientError(.invalidConfiguration, "cannot load the client key \(key): \(TLSErrors.drain())")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw RedisClientError(.invalidConfiguration, "the client key \(key) does not match the certificate \(certificate): \(TLSErrors.drain())")
            }
        default:
            throw RedisClientError(.invalidConfiguration, "a client certificate needs both a certificate file and a key file")
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    private static let sigpipe: Void = {
        var current = sigaction()
        if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
            _ = signal(SIGPIPE, SIG_IGN)
        }
    }()

    private static func ignoreSIGPIPEOnce() { _ = sigpipe }
}

/// Reading OpenSSL's thread-local error queue.
enum TLSErrors {
    /// The reason strings of every queued error, oldest first (e.g. `certificate verify failed`), and clears the queue.
    static func drain() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "unknown OpenSSL error" : reasons.joined(separator: "; ")
    }
}
