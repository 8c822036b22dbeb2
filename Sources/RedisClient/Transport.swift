#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one non-blocking read or write on a ``Transport``.
enum TransportIO {
    /// This many bytes were read or written (always more than 0).
    case transferred(Int)
    /// Nothing now: wait until the socket is readable, then retry the same call.
    case wantRead
    /// Nothing now: wait until the socket is writable, then retry the same call.
    case wantWrite
    /// The peer closed the stream cleanly.
    case closed
    /// The stream broke.
    case failed(RedisClientError)
}

/// The byte stream under one ``ConnectionCore``: plain TCP or TLS over TCP, on a non-blocking socket.
///
/// The core polls ``fd`` and calls ``read(into:)`` and ``write(_:)`` only when told to; a transport never
/// blocks and never starts threads. A read may ask to wait for writability (and a write for readability),
/// as TLS does; the core honours both. The core owns the transport and calls ``close()`` exactly once.
protocol Transport: AnyObject, Sendable {
    /// The socket to poll.
    var fd: Int32 { get }
    /// Whether callers may write on their own threads while the I/O thread reads. True for plain TCP,
    /// whose reads and writes are independent; false for TLS, whose state is shared by both directions,
    /// so that every TLS call happens on the connection's I/O thread.
    var allowsConcurrentWrites: Bool { get }
    /// Whether bytes already read from the socket wait inside the transport (decrypted TLS data): the
    /// core then reads again without polling, because the socket will not signal them.
    var hasBufferedInput: Bool { get }
    /// Whether a read that fills less than the buffer means nothing more is waiting (plain TCP). TLS reads
    /// return one record at a time, so a TLS reader keeps reading until ``TransportIO/wantRead``.
    var shortReadMeansDrained: Bool { get }
    /// Reads at most `buffer.count` bytes.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO
    /// Writes a prefix of `bytes` (not empty). After ``TransportIO/wantRead`` or ``TransportIO/wantWrite``
    /// the caller retries with the same bytes, or more.
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportIO
    /// Releases the socket (and any TLS state). Called once, after the last read or write.
    func close()
}

/// Plain TCP: `read(2)` and `send(2)` on the socket.
final class PlainTransport: Transport {
    let fd: Int32
    private let target: String

    init(fd: Int32, target: String) {
        self.fd = fd
        self.target = target
    }

    var allowsConcurrentWrites: Bool { true }
    var hasBufferedInput: Bool { false }
    var shortReadMeansDrained: Bool { true }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wantRead }
            return .failed(.syscall(.connectionClosed, "read() from \(target)"))
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportIO {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count > 0 { return .transferred(count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .wantWrite }
            return .failed(.syscall(.connectionClosed, "send() to \(target)"))
        }
    }

    func close() {
        Glibc.close(fd)
    }
}
