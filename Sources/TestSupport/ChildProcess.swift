#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A child process started for tests, stopped only by its own PID.
///
/// `posix_spawn` is used instead of Foundation's `Process` because a child inherits the spawning
/// thread's blocked-signal mask, and Dispatch worker threads block SIGTERM: children would then
/// ignore the SIGTERM a test sends. Here the child starts with an empty mask and default handlers.
public final class ChildProcess: Sendable {
    /// Why a process could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// The child's PID.
    public let pid: pid_t
    /// The exit status once reaped: the exit code, or 128 + signal number when killed by a signal.
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `path` with `arguments`; stdin is /dev/null, stdout and stderr go to `outputPath`
    /// (or /dev/null).
    /// - Throws: `Failure` with errno when the spawn fails.
    public init(path: String, arguments: [String], outputPath: String? = nil, environment: [String: String]? = nil) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = outputPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?]?
        if let environment {
            envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let status = envp.map { envp in posix_spawn(&pid, path, &actions, &attributes, argv, envp) }
            ?? posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw Failure(description: "cannot start \(path): errno \(status): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    deinit {
        if exitStatus.withLock({ $0 }) == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        if exitStatus.withLock({ $0 }) == nil { kill(pid, signal) }
    }

    /// The exit status if the child has exited (reaping it), else nil.
    public func pollExit() -> Int32? {
        exitStatus.withLock { stored in
            if let stored { return stored }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            guard result == pid else {
                if result < 0 && errno == ECHILD { stored = -1 }
                return stored
            }
            let signal = status & 0x7F
            stored = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            return stored
        }
    }

    /// Waits up to `timeout` for the child to exit and returns its status, or nil if it is still running.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = pollExit() { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return pollExit()
    }

    /// Blocking variant of `waitForExit`, for deinitializers and `atexit`.
    public func waitForExitSynchronously(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = pollExit() { return status }
            usleep(10_000)
        }
        return pollExit()
    }

    /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> Int32? {
        send(SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        send(SIGKILL)
        return await waitForExit(timeout: .seconds(5))
    }

    /// Finds an executable on `PATH`.
    public static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
