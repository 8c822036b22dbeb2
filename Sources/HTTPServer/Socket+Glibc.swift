import CEpoll
import Glibc

/// Thin wrappers over the POSIX socket calls the server makes.
enum Socket {
    /// Creates a non-blocking listening socket bound to `host:port`.
    ///
    /// The host is resolved with `getaddrinfo` (`AI_PASSIVE`), so literals of both families and names work;
    /// the first address that binds wins. `SO_REUSEADDR` is set, and IPv6 sockets also accept IPv4.
    /// - Returns: The socket and the port actually bound.
    /// - Throws: ``HTTPServerError`` when resolution, `socket`, `bind` or `listen` fails.
    static func makeListener(host: String, port: Int, backlog: Int32 = 1024) throws -> (fd: Int32, port: Int) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPServerError(operation: "getaddrinfo(\(host))", errno: status, message: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var lastError = HTTPServerError(operation: "bind", errno: 0, message: "no usable address for \(host)")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                lastError = .makeFailed("socket")
                continue
            }
            setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if info.pointee.ai_family == AF_INET6 { setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                lastError = .makeFailed("bind(\(host):\(port))")
                close(fd)
                continue
            }
            guard listen(fd, backlog) == 0 else {
                lastError = .makeFailed("listen")
                close(fd)
                continue
            }
            return (fd, boundPort(fd) ?? port)
        }
        throw lastError
    }

    /// The local port a socket is bound to.
    static func boundPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer -> Int? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default:
                nil
            }
        }
    }

    /// Sets an integer socket option, ignoring failure (all uses are best-effort tuning).
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Outcome of a non-blocking accept.
    enum AcceptResult {
        /// A new non-blocking connection.
        case accepted(Int32)
        /// No pending connection (`EAGAIN`).
        case wouldBlock
        /// Out of descriptors (`EMFILE`/`ENFILE`); back off before accepting again.
        case exhausted
        /// Any other error, e.g. the peer reset before accept; try again.
        case failed
    }

    /// Accepts one pending connection as non-blocking and close-on-exec, with `TCP_NODELAY` set.
    static func accept(_ listener: Int32) -> AcceptResult {
        let fd = cepoll_accept4(listener, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        if fd >= 0 {
            setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            return .accepted(fd)
        }
        switch errno {
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .exhausted
        default: return .failed
        }
    }

    /// Outcome of a non-blocking read or write.
    enum IOResult {
        /// This many bytes were transferred (more than zero).
        case bytes(Int)
        /// The peer closed its sending side (reads only).
        case endOfFile
        /// Nothing could be transferred now (`EAGAIN`).
        case wouldBlock
        /// The connection failed (reset, broken pipe ...).
        case failed
    }

    /// Reads into `buffer` once, retrying on `EINTR`.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfFile }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed
            }
        }
    }

    /// Sends from `buffer` once with `MSG_NOSIGNAL` (no `SIGPIPE`), retrying on `EINTR`.
    static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .bytes(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed
            }
        }
    }

    /// Closes a descriptor, ignoring errors (on Linux the descriptor is released even when close fails).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Ignores `SIGPIPE` process-wide so writes to vanished peers return `EPIPE` instead of killing the process.
    static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}
