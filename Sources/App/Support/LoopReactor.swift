import HTTPServer
import RedisClient

/// One of the HTTP server's event loops as an ``IOReactor``, so that Redis connections move onto the loops
/// whose requests use them (``RedisConnectionPool/attach(reactors:)``).
final class LoopReactor: IOReactor {
    private let loop: EventLoopReference

    init(_ loop: EventLoopReference) {
        self.loop = loop
    }

    var isCurrent: Bool { loop.isCurrent }

    func execute(_ body: @escaping @Sendable () -> Void) -> Bool {
        loop.execute(body)
    }

    func watch(_ fd: Int32, source: any IOReactorSource) -> Bool {
        loop.watch(fd, source: Source(source))
    }

    func setWantsWritable(_ fd: Int32, _ wants: Bool) {
        loop.setWantsWritable(fd, wants)
    }

    func unwatch(_ fd: Int32) {
        loop.unwatch(fd)
    }

    func scheduleFlush(_ fd: Int32) {
        loop.scheduleFlush(fd)
    }

    /// An ``IOReactorSource`` as the loop's ``EventLoopSource``.
    private final class Source: EventLoopSource {
        let source: any IOReactorSource

        init(_ source: any IOReactorSource) {
            self.source = source
        }

        func loopEvents(readable: Bool, writable: Bool) {
            source.reactorEvents(readable: readable, writable: writable)
        }

        func loopTick() {
            source.reactorTick()
        }

        func loopFlush() {
            source.reactorFlush()
        }

        func loopStopping() {
            source.reactorStopping()
        }
    }
}
