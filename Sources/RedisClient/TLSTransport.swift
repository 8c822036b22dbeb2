#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// TLS over a non-blocking TCP socket, through the system OpenSSL.
///
/// ``handshake(fd:context:host:target:deadline:)`` runs on the connecting thread; afterwards every call
/// happens on the connection's I/O thread (``allowsConcurrentWrites`` is false), because one `SSL` must not
/// be used from two threads at once. `SSL_ERROR_WANT_READ`/`WANT_WRITE` map to ``TransportIO/wantRead`` and
/// ``TransportIO/wantWrite``, which the I/O thread turns into `poll` events.
final class TLSTransport: Transport, @unchecked Sendable {
    // @unchecked: `ssl` is used by one thread at a time: the connecting thread, then the I/O thread.
    let fd: Int32
    private let ssl: OpaquePointer
    private let target: String

    private init(fd: Int32, ssl: OpaquePointer, target: String) {
        self.fd = fd
        self.ssl = ssl
        self.target = target
    }

    var allowsConcurrentWrites: Bool { false }
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }
    var shortReadMeansDrained: Bool { false }

    /// Runs the TLS handshake on a connected non-blocking socket, verifying the certificate against the
    /// context's trust store and `context.configuration.serverName ?? host` (unless insecure).
    /// - Returns: The transport, owning `fd`.
    /// - Throws: ``RedisClientError/Code/connectionFailed`` with OpenSSL's reason, e.g.
    ///   `certificate verify failed: self-signed certificate in certificate chain`. The caller closes `fd`.
    static func handshake(
        fd: Int32, context: TLSContext, host: String, target: String, deadline: ContinuousClock.Instant
    ) throws(RedisClientError) -> TLSTransport {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw RedisClientError(.connectionFailed, "TLS to \(target): SSL_new failed: \(TLSErrors.drain())")
        }
        var handedOver = false
        defer { if !handedOver { SSL_free(ssl) } }
        guard SSL_set_fd(ssl, fd) == 1 else {
            throw RedisClientError(.connectionFailed, "TLS to \(target): SSL_set_fd failed: \(TLSErrors.drain())")
        }
        let name = context.configuration.serverName ?? host
        let isAddress = Self.isIPAddress(name)
        // RFC 6066: SNI carries host names only, never IP literals.
        if !isAddress {
            guard copenssl_set_sni(ssl, name) == 1 else {
                throw RedisClientError(.connectionFailed, "TLS to \(target): invalid server name '\(name.prefix(64))': \(TLSErrors.drain())")
            }
        }
        if !context.configuration.insecure {
            let set = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) : SSL_set1_host(ssl, name)
            guard set == 1 else {
                throw RedisClientError(.connectionFailed, "TLS to \(target): cannot verify against '\(name.prefix(64))': \(TLSErrors.drain())")
            }
        }

        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { break }
            let error = SSL_get_error(ssl, result)
            var events: Int16
            switch error {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            default: throw handshakeError(ssl: ssl, error: error, result: result, name: name, target: target)
            }
            while true {
                let remaining = Socket.milliseconds(until: deadline)
                guard remaining > 0 else {
                    // A plaintext Redis takes the ClientHello for the start of an inline command and waits.
                    let silent = BIO_number_read(SSL_get_rbio(ssl)) == 0
                    throw RedisClientError(.connectionFailed, "TLS handshake with \(target) timed out"
                        + (silent ? ": the server sent nothing back (is it speaking plaintext, not TLS, on this port?)" : ""))
                }
                var descriptor = pollfd(fd: fd, events: events, revents: 0)
                let ready = poll(&descriptor, 1, remaining)
                if ready > 0 { break }
                if ready < 0 && errno != EINTR {
                    throw .syscall(.connectionFailed, "poll() during the TLS handshake with \(target)")
                }
                events = descriptor.events
            }
        }
        handedOver = true
        return TLSTransport(fd: fd, ssl: ssl, target: target)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if count > 0 { return .transferred(Int(count)) }
        return outcome(of: count, reading: true)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportIO {
        ERR_clear_error()
        let count = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if count > 0 { return .transferred(Int(count)) }
        return outcome(of: count, reading: false)
    }

    func close() {
        // Best effort close_notify; never waits for the peer's.
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        SSL_free(ssl)
        Glibc.close(fd)
    }

    private func outcome(of result: Int32, reading: Bool) -> TransportIO {
        let savedErrno = errno
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where savedErrno == 0 || result == 0:
            return .closed
        case SSL_ERROR_SYSCALL:
            return .failed(RedisClientError(.connectionClosed, "TLS \(reading ? "read from" : "write to") \(target) failed", errno: savedErrno))
        default:
            let reason = TLSErrors.drain()
            var message = "TLS connection to \(target) failed: \(reason)"
            if reason.contains("certificate required") {
                message += " (the server requires a client certificate: configure one)"
            } else if reason.contains("alert bad certificate") || reason.contains("alert unknown ca") {
                message += " (the server rejected the client certificate)"
            }
            return .failed(RedisClientError(.connectionClosed, message))
        }
    }

    private static func handshakeError(
        ssl: OpaquePointer, error: Int32, result: Int32, name: String, target: String
    ) -> RedisClientError {
        let savedErrno = errno
        let verify = SSL_get_verify_result(ssl)
        let prefix = "TLS handshake with \(target) failed"
        if verify != Int(X509_V_OK) {
            let why = String(cString: X509_verify_cert_error_string(verify))
            _ = TLSErrors.drain()
            var message = "\(prefix): certificate verify failed: \(why)"
            if verify == Int(X509_V_ERR_HOSTNAME_MISMATCH) || verify == Int(X509_V_ERR_IP_ADDRESS_MISMATCH) {
                message += " (the certificate is not for '\(name.prefix(64))')"
            }
            return RedisClientError(.connectionFailed, message)
        }
        if error == SSL_ERROR_SSL {
            let code = ERR_peek_error()
            let reasonCode = copenssl_error_reason(code)
            let reason = TLSErrors.drain()
            var message = "\(prefix): \(reason)"
            if reasonCode == SSL_R_WRONG_VERSION_NUMBER || reasonCode == SSL_R_PACKET_LENGTH_TOO_LONG
                || reasonCode == SSL_R_UNEXPECTED_EOF_WHILE_READING {
                message += " (is the server speaking plaintext, not TLS, on this port?)"
            } else if reason.contains("certificate required") {
                message += " (the server requires a client certificate: configure one)"
            }
            return RedisClientError(.connectionFailed, message)
        }
        if error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN {
            _ = TLSErrors.drain()
            if savedErrno != 0 && result < 0 {
                return RedisClientError(.connectionFailed, "\(prefix) (is the server speaking plaintext, not TLS, on this port?)", errno: savedErrno)
            }
            return RedisClientError(.connectionFailed, "\(prefix): the server closed the connection (is it speaking plaintext, not TLS, on this port?)")
        }
        return RedisClientError(.connectionFailed, "\(prefix): SSL error \(error): \(TLSErrors.drain())")
    }

    /// Whether `name` is an IPv4 or IPv6 literal.
    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
