import Dispatch
import Glibc

/// Waits for SIGTERM or SIGINT.
enum ShutdownSignal {
    /// Suspends until the process receives SIGTERM or SIGINT and returns its name.
    static func wait() async -> String {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let queue = DispatchQueue(label: "agentstate.signals")
        return await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let sources = [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { number, name in
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                return (source, name)
            }
            let fired = SignalLatch()
            for (source, name) in sources {
                source.setEventHandler {
                    guard fired.fire() else { return }
                    for (other, _) in sources { other.cancel() }
                    continuation.resume(returning: name)
                }
                source.resume()
            }
        }
    }
}

/// True exactly once.
private final class SignalLatch: @unchecked Sendable {
    // Only touched from the serial signal queue.
    private var fired = false

    func fire() -> Bool {
        defer { fired = true }
        return !fired
    }
}
