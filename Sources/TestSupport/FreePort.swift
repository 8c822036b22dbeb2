#if canImport(Glibc)
import Glibc
#endif

/// Finds a TCP port that is free on 127.0.0.1 right now.
public enum FreePort {
    /// An error from the socket calls used to find a port.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed, with `errno` and `strerror`.
        public let description: String
    }

    /// Binds 127.0.0.1:0, reads the port the kernel chose, and closes the socket.
    ///
    /// Another process may take the port before the caller binds it; callers start their server promptly.
    /// - Returns: The port number.
    /// - Throws: ``Failure`` when a socket call fails.
    public static func allocate() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket()") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw failure("bind(127.0.0.1:0)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw failure("getsockname()") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func failure(_ call: String) -> Failure {
        let code = errno
        return Failure(description: "\(call) failed: errno \(code): \(String(cString: strerror(code)))")
    }
}
