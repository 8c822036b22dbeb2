import Foundation
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

    /// Another process cannot reserve a port this one handed out: its byte of the lock file is locked.
    @Test func anotherProcessCannotReserveAHandedOutPort() throws {
        let port = try FreePort.allocate()
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", """
            import fcntl, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            for port, want in ((int(sys.argv[2]), 'locked'), (int(sys.argv[2]) + 20000, 'free')):
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
                    print(port, 'free' if want == 'free' else 'UNEXPECTEDLY free')
                except OSError:
                    print(port, 'locked' if want == 'locked' else 'UNEXPECTEDLY locked')
            """, FreePort.lockFile, String(port)]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        python.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(python.terminationStatus == 0, "python3 is needed: apt-get install -y python3")
        #expect(text == "\(port) locked\n\(port + 20000) free\n", "\(text)")
    }
}
