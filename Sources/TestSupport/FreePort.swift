#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Finds a TCP port that is free on 127.0.0.1 right now and that no live process using `FreePort` has handed out.
///
/// Ports come from 20000–32767, below Linux's default ephemeral range (32768–60999), so neither the kernel's
/// `bind(…:0)` choices nor the local ports of outgoing connections can take one between ``allocate()`` and the
/// caller's own `bind`. A port is never handed out twice while this process lives, by this process or by
/// another one using `FreePort` (test runs of several checkouts at once): each port handed out is locked
/// with a POSIX record lock on byte `port` of ``lockFile``, which the kernel drops when the process exits.
/// So a server that is stopped and restarted on its port (``RedisServerProcess/restart()``) keeps it even
/// while it is down, where a second allocation would otherwise give it to another test.
public enum FreePort {
    /// An error from the socket calls used to find a port.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed, with `errno` and `strerror`.
        public let description: String
    }

    /// The range ports are handed out from.
    public static let range = 20000...32767
    /// The file whose bytes, one per port, processes lock to reserve ports from each other.
    public static let lockFile = "/tmp/agentstate-test-ports.lock"

    private struct Cursor {
        var next: Int
        var handedOut: Set<Int> = []
        /// ``lockFile``, open for the life of the process (closing any descriptor of it would drop every lock); -1 if it cannot be opened.
        let lockDescriptor: Int32 = open(FreePort.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
    }

    private static let cursor = Mutex(Cursor(next: range.lowerBound + Int(getpid()) % range.count))

    /// Returns a port in ``range`` that nothing on this machine is bound to (checked by binding it without
    /// `SO_REUSEADDR`, so a port with connections in TIME_WAIT is passed over too) and that neither this process
    /// nor another live one has handed out.
    ///
    /// Another process may still take the port before the caller binds it; callers start their server promptly.
    /// - Returns: The port number.
    /// - Throws: ``Failure`` when no port in the range is free.
    public static func allocate() throws -> Int {
        try cursor.withLock { cursor in
            for _ in 0..<range.count {
                let port = cursor.next
                cursor.next = port == range.upperBound ? range.lowerBound : port + 1
                guard !cursor.handedOut.contains(port), reserve(port, in: cursor.lockDescriptor), isFree(port) else { continue }
                cursor.handedOut.insert(port)
                return port
            }
            throw Failure(description: "no free port on 127.0.0.1 in \(range.lowerBound)-\(range.upperBound) that this process has not used")
        }
    }

    /// Locks byte `port` of the lock file for this process; false when another live process holds it.
    /// Without a lock file (it cannot be created) every port counts as reserved by this process alone.
    private static func reserve(_ port: Int, in descriptor: Int32) -> Bool {
        guard descriptor >= 0 else { return true }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = off_t(port)
        lock.l_len = 1
        return fcntl(descriptor, F_SETLK, &lock) == 0
    }

    /// Whether 127.0.0.1:`port` can be bound right now.
    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
