import Glibc

/// Collects the standard-error log lines of one thread, so that a server thread writes a burst of
/// lines (one request line per response of an event-loop turn) with one `write(2)` instead of one each.
///
/// A thread opts in with ``begin()`` and ``end()``; between them, lines that ``Logger`` writes to
/// standard error on that thread wait in memory until ``flush()``. The HTTP event loop flushes before it
/// writes a response and before it waits in `epoll_wait`, so a request's line still reaches standard error
/// before its response reaches the client, and no line waits longer than one loop turn. Other threads, and
/// loggers with their own sink, are not affected. At most ``limit`` bytes wait: a line that would pass it
/// flushes first. Lines waiting when the process dies abnormally are lost: at most one loop turn's.
public enum LogBatch {
    /// Most bytes that wait before a line forces a write.
    public static let limit = 64 * 1024

    /// Waiting lines of one thread, where they go and how many bytes may wait.
    struct Buffer {
        var bytes: [UInt8] = []
        let fd: Int32
        let limit: Int
    }

    /// The calling thread's buffer, a `Buffer` allocated by `begin()`.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// The calling thread's buffer, if it collects.
    private static var current: UnsafeMutablePointer<Buffer>? {
        pthread_getspecific(key)?.assumingMemoryBound(to: Buffer.self)
    }

    /// Starts collecting this thread's standard-error lines (a no-op if it already does).
    public static func begin() {
        begin(fd: STDERR_FILENO, limit: limit)
    }

    /// Starts collecting, writing to `fd` with at most `limit` bytes waiting; tests pass a pipe.
    static func begin(fd: Int32, limit: Int) {
        guard current == nil else { return }
        let buffer = UnsafeMutablePointer<Buffer>.allocate(capacity: 1)
        buffer.initialize(to: Buffer(fd: fd, limit: limit))
        buffer.pointee.bytes.reserveCapacity(4096)
        pthread_setspecific(key, buffer)
    }

    /// Writes this thread's waiting lines, if any.
    @inline(__always)
    public static func flush() {
        guard let buffer = current, !buffer.pointee.bytes.isEmpty else { return }
        write(&buffer.pointee)
    }

    /// Writes this thread's waiting lines and stops collecting.
    public static func end() {
        guard let buffer = current else { return }
        pthread_setspecific(key, nil)
        write(&buffer.pointee)
        buffer.deinitialize(count: 1)
        buffer.deallocate()
    }

    /// The bytes waiting on this thread (nil when it does not collect); for tests.
    static var waiting: [UInt8]? { current?.pointee.bytes }

    /// Writes one line to standard error now, or queues it when this thread collects.
    static func standardError(_ line: UnsafeBufferPointer<UInt8>) {
        guard let buffer = current else {
            writeAll(line, to: STDERR_FILENO)
            return
        }
        let limit = buffer.pointee.limit
        if buffer.pointee.bytes.count + line.count > limit { write(&buffer.pointee) }
        if line.count > limit {
            writeAll(line, to: buffer.pointee.fd)
        } else {
            buffer.pointee.bytes.append(contentsOf: line)
        }
    }

    private static func write(_ buffer: inout Buffer) {
        guard !buffer.bytes.isEmpty else { return }
        let fd = buffer.fd
        buffer.bytes.withUnsafeBufferPointer { writeAll($0, to: fd) }
        buffer.bytes.removeAll(keepingCapacity: buffer.bytes.capacity <= buffer.limit)
    }

    /// One `write(2)` (to standard error, fd 2, but for tests), so lines from concurrent threads do not
    /// interleave, retrying only after a partial write or `EINTR`.
    private static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return  // Nowhere to report a failure to write the log.
            }
        }
    }
}
