import Testing
import TestSupport

@Suite(.offCooperativePool) struct FreePortTests {
    /// Every port is in the range, and none is handed out twice in one process, even after whoever had it
    /// closed it (a stopped server that will restart on its port keeps it).
    @Test func portsAreDistinctAndInRange() throws {
        var seen = Set<Int>()
        for _ in 0..<64 {
            let port = try FreePort.allocate()
            #expect(FreePort.range.contains(port))
            #expect(seen.insert(port).inserted, "port \(port) handed out twice")
        }
    }
}
