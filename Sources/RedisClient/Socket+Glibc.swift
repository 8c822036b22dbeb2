#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import Foundation

/// Blocking socket set-up helpers. They are only called on dedicated threads, never on Swift concurrency's cooperative pool.
enum Socket {
    /// Resolves `host` and connects to the first address that answers, within `timeout` in total.
    /// - Returns: A connected, non-blocking, close-on-exec TCP socket with `TCP_NODELAY` and `SO_KEEPALIVE` set.
    /// - Throws: ``RedisClientError/Code/connectionFailed``.
    static func connect(host: String, port: Int, timeout: Duration) throws(RedisClientError) -> Int32 {
        let deadline = ContinuousClock.now + timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            let reason = String(cString: gai_strerror(status))
            throw RedisClientError(.connectionFailed, "cannot resolve \(host): \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = RedisClientError(.connectionFailed, "no address found for \(host)")
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let info = cursor?.pointee {
            cursor = info.ai_next
            let fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), info.ai_protocol)
            guard fd >= 0 else {
                lastError = .syscall(.connectionFailed, "socket()")
                continue
            }
            do throws(RedisClientError) {
                try finishConnect(fd: fd, address: info.ai_addr, length: info.ai_addrlen, deadline: deadline, target: "\(host):\(port)")
                configure(fd)
                return fd
            } catch {
                Glibc.close(fd)
                lastError = error
            }
        }
        throw lastError
    }

    private static func finishConnect(
        fd: Int32, address: UnsafeMutablePointer<sockaddr>?, length: socklen_t, deadline: ContinuousClock.Instant, target: String
    ) throws(RedisClientError) {
        if Glibc.connect(fd, address, length) == 0 { return }
        guard errno == EINPROGRESS else { throw .syscall(.connectionFailed, "connect to \(target)") }
        while true {
            let remaining = milliseconds(until: deadline)
            guard remaining > 0 else {
                throw RedisClientError(.connectionFailed, "connect to \(target) timed out")
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&descriptor, 1, remaining)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .syscall(.connectionFailed, "poll() while connecting to \(target)")
            }
            if ready == 0 { continue }
            var socketError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size) == 0 else {
                throw .syscall(.connectionFailed, "getsockopt(SO_ERROR) for \(target)")
            }
            guard socketError == 0 else {
                throw RedisClientError(.connectionFailed, "connect to \(target)", errno: socketError)
            }
            return
        }
    }

    private static func configure(_ fd: Int32) {
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Milliseconds from now until `deadline`, rounded up, clamped to `0...Int32.max`.
    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }
}

/// Runs blocking work on a new dedicated thread and awaits its result without occupying a cooperative thread.
func onDedicatedThread<T: Sendable>(
    name: String, _ body: @escaping @Sendable () throws(RedisClientError) -> T
) async throws(RedisClientError) -> T {
    let result: Result<T, RedisClientError> = await withCheckedContinuation { continuation in
        let thread = Thread {
            do throws(RedisClientError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        thread.name = name
        thread.start()
    }
    return try result.get()
}
