import CEpoll
import Foundation
import Synchronization

/// An HTTP/1.1 server on non-blocking POSIX sockets and epoll. It knows nothing about the application:
/// an ``HTTPHandler`` decides every response.
///
/// `eventLoopCount` dedicated threads each run an epoll loop; loop 0 also accepts and deals connections out
/// round-robin. Requests on a connection are handled one at a time and answered in order (pipelining).
/// The handler first may take a request on the loop's thread without a task (``HTTPHandler/respond(to:with:)``:
/// an in-memory answer, or I/O this loop completes); otherwise it runs in a task whose preferred executor is the
/// connection's loop, so it runs on the loop's thread, also after it resumes from an `await` (no hop to the
/// global pool and back). Limits and timeouts follow ``Configuration``.
///
/// ```swift
/// let server = HTTPServer(configuration: configuration, handler: app)
/// let port = try server.start()
/// // ...
/// await server.shutdown(grace: .seconds(25))
/// ```
public final class HTTPServer: Sendable {
    /// Lifecycle of the server.
    private enum Lifecycle: Sendable {
        /// Created, not started.
        case initial
        /// Serving on these loops.
        case running([EventLoop])
        /// `shutdown` has begun.
        case stopping
        /// Shut down; cannot be restarted.
        case stopped
    }

    /// The configuration given at creation.
    public let configuration: Configuration
    /// The application handler.
    private let handler: any HTTPHandler
    /// The open-connection gauge.
    private let counter = ConnectionCounter()
    private let shuttingDown = ShutdownFlag()
    /// Lifecycle state; guarded because `start`, `shutdown` and the gauge may be used from any thread.
    private let lifecycle = Mutex(Lifecycle.initial)

    /// Creates a server; nothing is bound until ``start()``.
    /// - Parameters:
    ///   - configuration: Address, limits, timeouts and threading.
    ///   - handler: Produces every response.
    public init(configuration: Configuration, handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// The event loops while the server runs (empty before ``start()`` and after shutdown), for owners of
    /// other sockets that want them served on a loop (``EventLoopReference/watch(_:source:)``).
    public var eventLoops: [EventLoopReference] {
        lifecycle.withLock { state in
            guard case .running(let loops) = state else { return [] }
            return loops.map(EventLoopReference.init)
        }
    }

    /// Connections currently open (accepted and not yet closed), for a metrics gauge.
    public var openConnections: Int { counter.current }

    /// Binds, listens and starts the event-loop threads.
    ///
    /// Also sets `SIGPIPE` to ignored for the whole process, so writes to vanished peers cannot kill it.
    /// - Returns: The bound port (useful when the configured port is 0).
    /// - Throws: ``HTTPServerError`` (with errno and strerror) when resolving, binding or listening fails,
    ///   or when the server was already started.
    public func start() throws -> Int {
        try lifecycle.withLock { state -> Int in
            guard case .initial = state else {
                throw HTTPServerError(operation: "start", errno: 0, message: "server already started")
            }
            Socket.ignoreSIGPIPE()
            let (listenerFD, port) = try Socket.makeListener(host: configuration.host, port: configuration.port)
            var loops: [EventLoop] = []
            do {
                for index in 0..<max(1, configuration.eventLoopCount) {
                    loops.append(try EventLoop(index: index, openConnections: counter))
                }
            } catch {
                Socket.close(listenerFD)
                for loop in loops { loop.markStopped() }
                throw error
            }
            let context = ServerContext(
                configuration: configuration,
                handler: handler,
                openConnections: counter,
                loops: loops,
                listenerFD: listenerFD,
                shuttingDown: shuttingDown
            )
            for loop in loops {
                let thread = Thread {
                    // Also the kernel's name for the thread (`ps -L`, /proc/<pid>/task/*/comm).
                    cepoll_set_thread_name("http-loop-\(loop.index)")
                    EventLoopCore(loop: loop, context: context).run()
                }
                thread.name = "http-loop-\(loop.index)"
                thread.start()
            }
            state = .running(loops)
            return port
        }
    }

    /// Shuts down gracefully.
    ///
    /// Closes the listener (new connections are refused), closes idle keep-alive connections at once, and lets
    /// every request whose first byte has arrived finish and get its response (with `Connection: close`).
    /// Returns when all connections are closed, or once `grace` has passed, after force-closing the rest.
    /// Before `start` it just marks the server stopped; a concurrent second call waits for the first one
    /// (at most `grace` plus the force-close allowance); later calls return at once.
    /// - Parameter grace: How long in-flight requests may take.
    public func shutdown(grace: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        let loops = lifecycle.withLock { state -> [EventLoop]? in
            guard case .running(let loops) = state else {
                if case .initial = state { state = .stopped }
                return nil
            }
            state = .stopping
            return loops
        }
        shuttingDown.set()
        guard let loops else {
            await waitUntil(deadline: deadline.advanced(by: .seconds(3)), clock: clock) { isStopped }
            return
        }

        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loops[0].post(.closeListener({ continuation.resume() }))
        }
        for loop in loops { loop.post(.drain) }
        await waitUntil(deadline: deadline, clock: clock) { counter.current <= 0 }

        if counter.current > 0 {
            for loop in loops { loop.post(.forceClose) }
            await waitUntil(deadline: clock.now.advanced(by: .seconds(1)), clock: clock) { counter.current <= 0 }
        }
        for loop in loops { loop.post(.stop) }
        await waitUntil(deadline: clock.now.advanced(by: .seconds(2)), clock: clock) {
            loops.allSatisfy { $0.finished.load(ordering: .acquiring) }
        }
        lifecycle.withLock { $0 = .stopped }
    }

    /// Whether the server is not running and not shutting down.
    private var isStopped: Bool {
        lifecycle.withLock { state in
            switch state {
            case .initial, .stopped: true
            case .running, .stopping: false
            }
        }
    }

    /// Polls `condition` every few milliseconds until it holds or `deadline` passes.
    private func waitUntil(deadline: ContinuousClock.Instant, clock: ContinuousClock, _ condition: () -> Bool) async {
        while !condition() && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
