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
        // ChildProcess, not Foundation's Process: under load, `Process.waitUntilExit()` once never
        // returned although python3 had exited (a zombie nobody reaped), and the run hung.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("freeport-\(getpid())-\(port).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let python = try ChildProcess(path: "/usr/bin/env", arguments: ["python3", "-c", """
            import fcntl, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            for port, want in ((int(sys.argv[2]), 'locked'), (int(sys.argv[2]) + 20000, 'free')):
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
                    print(port, 'free' if want == 'free' else 'UNEXPECTEDLY free')
                except OSError:
                    print(port, 'locked' if want == 'locked' else 'UNEXPECTEDLY locked')
            """, FreePort.lockFile, String(port)], outputPath: output)
        let status = python.waitForExitSynchronously(timeout: .seconds(60))
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "python3 is needed: apt-get install -y python3 (exit status \(String(describing: status)); \(text))")
        #expect(text == "\(port) locked\n\(port + 20000) free\n", "\(text)")
    }
}
