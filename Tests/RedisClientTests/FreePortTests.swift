#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

@Suite struct FreePortTests {
    /// A port is never handed out twice in one process, even after whoever had it closed it, and each
    /// one can be bound at once.
    @Test func portsAreDistinctInRangeAndBindable() throws {
        var seen = Set<Int>()
        for _ in 0..<64 {
            let port = try FreePort.allocate()
            #expect(FreePort.range.contains(port))
            #expect(seen.insert(port).inserted, "port \(port) handed out twice")
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(fd >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            #expect(bound == 0, "port \(port) could not be bound")
            close(fd)
        }
    }
}
