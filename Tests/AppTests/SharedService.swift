import Foundation
import Synchronization

/// One agentstate process shared by the end-to-end tests that need no special configuration.
/// Each test uses its own agent ID (`uniqueAgent()`), so they never see each other's data.
/// A global is never deinitialized, so the process is stopped by PID when the test process exits.
let sharedService = Task<AgentStateProcess, any Error> {
    let process = try await AgentStateProcess(["--log-level", "warning"])
    sharedServicePID.withLock { $0 = process.child.pid }
    atexit {
        let pid = sharedServicePID.withLock { $0 }
        if pid > 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
    return process
}

/// The shared process's PID, for the `atexit` handler (which cannot capture context).
private let sharedServicePID = Mutex<pid_t>(0)

/// The shared process.
func service() async throws -> AgentStateProcess {
    try await sharedService.value
}
