import Foundation
import Glibc
import Synchronization
import Testing
import TestSupport
@testable import RedisClient

/// A minimal ``IOReactor`` for tests: one thread polling its sources and a wake-up pipe.
final class TestReactor: IOReactor, @unchecked Sendable {
    private struct Queue {
        var closures: [@Sendable () -> Void] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let wakeRead: Int32, wakeWrite: Int32
    private let threadID = Atomic<UInt>(0)
    private let finished = Atomic<Bool>(false)
    /// Reactor thread only.
    private var sources: [Int32: (source: any IOReactorSource, writable: Bool)] = [:]
    /// How many times a source was called with readability or writability.
    let eventCalls = Atomic<Int>(0)
    let writableCalls = Atomic<Int>(0)

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        Thread { [self] in run() }.start()
        while threadID.load(ordering: .acquiring) == 0 { usleep(100) }
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    var isCurrent: Bool { threadID.load(ordering: .relaxed) == pthread_self() && !finished.load(ordering: .relaxed) }

    func execute(_ body: @escaping @Sendable () -> Void) -> Bool {
        let queued = queue.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            queue.closures.append(body)
            return true
        }
        if queued {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
        return queued
    }

    func watch(_ fd: Int32, source: any IOReactorSource) -> Bool {
        guard isCurrent, sources[fd] == nil else { return false }
        sources[fd] = (source, false)
        return true
    }

    func setWantsWritable(_ fd: Int32, _ wants: Bool) {
        sources[fd]?.writable = wants
    }

    func unwatch(_ fd: Int32) {
        sources[fd] = nil
    }

    /// Reactor thread only.
    private var flushes: [Int32] = []
    /// How many flushes ran.
    let flushCalls = Atomic<Int>(0)

    func scheduleFlush(_ fd: Int32) {
        flushes.append(fd)
    }

    /// Whether some source is watched.
    func watchedCount() async -> Int {
        await withCheckedContinuation { continuation in
            guard execute({ [self] in continuation.resume(returning: sources.count) }) else {
                continuation.resume(returning: 0)
                return
            }
        }
    }

    /// Stops the thread: sources are told (`reactorStopping`), and queued closures still run.
    func stop() {
        _ = queue.withLock { $0.stopped = true }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
    }

    private func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        var nextTick = ContinuousClock.now + .milliseconds(100)
        while true {
            let closures = queue.withLock { queue -> ([@Sendable () -> Void], Bool) in
                let taken = queue.closures
                queue.closures = []
                return (taken, queue.stopped)
            }
            for closure in closures.0 { closure() }
            if closures.1 { break }
            while !flushes.isEmpty {
                let due = flushes
                flushes = []
                for fd in due {
                    flushCalls.wrappingAdd(1, ordering: .relaxed)
                    sources[fd]?.source.reactorFlush()
                }
            }
            let watched = Array(sources)
            var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            for (fd, entry) in watched {
                descriptors.append(pollfd(fd: fd, events: Int16(POLLIN) | (entry.writable ? Int16(POLLOUT) : 0), revents: 0))
            }
            _ = poll(&descriptors, nfds_t(descriptors.count), 20)
            if descriptors[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                _ = read(wakeRead, &drain, drain.count)
            }
            for (index, (fd, _)) in watched.enumerated() {
                let revents = descriptors[index + 1].revents
                guard revents != 0, let source = sources[fd]?.source else { continue }
                let writable = revents & Int16(POLLOUT) != 0
                eventCalls.wrappingAdd(1, ordering: .relaxed)
                if writable { writableCalls.wrappingAdd(1, ordering: .relaxed) }
                source.reactorEvents(readable: revents & Int16(POLLIN | POLLHUP | POLLERR) != 0, writable: writable)
            }
            if ContinuousClock.now >= nextTick {
                for (_, entry) in Array(sources) { entry.source.reactorTick() }
                nextTick = ContinuousClock.now + .milliseconds(100)
            }
        }
        let stopping = Array(sources.values)
        sources = [:]
        for entry in stopping { entry.source.reactorStopping() }
        let late = queue.withLock { queue -> [@Sendable () -> Void] in
            let taken = queue.closures
            queue.closures = []
            return taken
        }
        finished.store(true, ordering: .releasing)
        for closure in late { closure() }
    }
}

/// A connection moved onto a reactor (``RedisConnection/handOver(to:)``) behaves as on its I/O thread.
@Suite(.offCooperativePool)
struct ReactorConnectionTests {
    /// Waits until the reactor watches `count` sockets (the hand-over is asynchronous).
    static func waitUntilWatched(_ reactor: TestReactor, _ count: Int) async throws {
        for _ in 0..<500 {
            if await reactor.watchedCount() == count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the reactor never watched \(count) socket(s)")
    }

    @Test func concurrentCommandsGetTheirRepliesThroughTheReactor() async throws {
        let server = try await RedisServerProcess.shared()
        let reactor = TestReactor()
        defer { reactor.stop() }
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        #expect(connection.handOver(to: reactor))
        #expect(!connection.handOver(to: reactor), "a connection hands over once")
        try await Self.waitUntilWatched(reactor, 1)
        let before = reactor.eventCalls.load(ordering: .relaxed)
        #expect(try await concurrentSetGetMismatches(connection, count: 500, prefix: uniquePrefix()) == 0)
        #expect(reactor.eventCalls.load(ordering: .relaxed) > before, "replies were read by the reactor")
    }

    /// Commands sent with a completion (no task) from the reactor's thread get their replies in order,
    /// on that thread; an error reply arrives as `RedisError`, and a closed connection answers at once.
    @Test func completionsRunOnTheReactorInOrder() async throws {
        let server = try await RedisServerProcess.shared()
        let reactor = TestReactor()
        defer { reactor.stop() }
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        connection.handOver(to: reactor)
        try await Self.waitUntilWatched(reactor, 1)
        let key = Array((uniquePrefix() + "counter").utf8)
        let count = 200
        let outcomes = Mutex<[(reply: Int64?, onReactor: Bool)]>([])
        let failure = Mutex<(any Error)?>(nil)
        let done = AsyncStream<Void>.makeStream()
        #expect(reactor.execute {
            for _ in 0..<count {
                connection.send(RESPCommand([Array("INCR".utf8), key])) { result in
                    outcomes.withLock { $0.append(((try? result.get())?.value().int, reactor.isCurrent)) }
                }
            }
            connection.send(RESPCommand([Array("NOSUCHCOMMAND".utf8)])) { result in
                if case .failure(let error) = result { failure.withLock { $0 = error } }
                done.continuation.yield()
            }
        })
        for await _ in done.stream { break }
        let seen = outcomes.withLock { $0 }
        #expect(seen.map(\.reply) == (1...count).map { Int64($0) }, "every reply, in the order sent")
        #expect(seen.allSatisfy { $0.onReactor }, "completions run on the reactor's thread")
        #expect((failure.withLock { $0 } as? RedisError)?.code == "ERR")

        connection.close()
        await connection.waitUntilClosed()
        let closed = Mutex<(any Error)?>(nil)
        connection.send(RESPCommand([Array("PING".utf8)])) { result in
            if case .failure(let error) = result { closed.withLock { $0 = error } }
        }
        let error = closed.withLock { $0 }
        #expect((error as? RedisClientError)?.isConnectivity == true, "a closed connection completes at once, with an error")
    }

    /// A command larger than the socket takes at once is finished by the reactor on writability: the server
    /// sleeps (`DEBUG SLEEP`, on a server of the test's own), so the socket fills up.
    @Test func largeCommandsAreFinishedOnWritability() async throws {
        let server = try await RedisServerProcess(arguments: ["--enable-debug-command", "yes"])
        let reactor = TestReactor()
        defer { reactor.stop() }
        let admin = try await RedisConnection.connect(to: try server.redisURL())
        defer { admin.close() }
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        connection.handOver(to: reactor)
        try await Self.waitUntilWatched(reactor, 1)
        async let sleep = admin.send("DEBUG", "SLEEP", "0.5")
        try await Task.sleep(for: .milliseconds(100))
        let key = Array("large".utf8)
        let value = [UInt8]((0..<32_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        async let set = connection.send([Array("SET".utf8), key, value])
        async let pings = withThrowingTaskGroup(of: RESPValue.self) { group in
            for _ in 0..<20 { group.addTask { try await connection.send("PING") } }
            return try await group.reduce(into: [RESPValue]()) { $0.append($1) }
        }
        #expect(try await set == .simpleString("OK"))
        #expect(try await pings == Array(repeating: .simpleString("PONG"), count: 20))
        _ = try await sleep
        #expect(try await connection.send([Array("STRLEN".utf8), key]) == .integer(32_000_000))
        #expect(reactor.writableCalls.load(ordering: .relaxed) > 0, "the socket filled up and the reactor finished the write")
    }

    /// When the reactor stops, the connection goes back to an I/O thread and keeps working.
    @Test func reactorStopHandsTheConnectionBack() async throws {
        let server = try await RedisServerProcess.shared()
        let reactor = TestReactor()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        connection.handOver(to: reactor)
        try await Self.waitUntilWatched(reactor, 1)
        #expect(try await connection.send("PING") == .simpleString("PONG"))
        reactor.stop()
        let key = uniquePrefix() + "after"
        #expect(try await connection.send("SET", key, "v") == .simpleString("OK"))
        #expect(try await connection.send("GET", key) == .bulkString(Array("v".utf8)))
        #expect(!connection.isClosed)
    }

    /// Closing, a server that goes away and a command timeout all end the connection on the reactor.
    @Test func closeAndTimeoutEndTheConnectionOnTheReactor() async throws {
        let server = try await RedisServerProcess()
        let reactor = TestReactor()
        defer { reactor.stop() }
        let admin = try await RedisConnection.connect(to: try server.redisURL())
        defer { admin.close() }

        let closing = try await RedisConnection.connect(to: try server.redisURL())
        closing.handOver(to: reactor)
        try await Self.waitUntilWatched(reactor, 1)
        closing.close()
        await closing.waitUntilClosed()
        try await Self.waitUntilWatched(reactor, 0)
        await #expect { _ = try await closing.send("PING") } throws: { ($0 as? RedisClientError)?.isConnectivity == true }

        var configuration = RedisConnection.Configuration(url: try server.redisURL())
        configuration.commandTimeout = .milliseconds(200)
        let timing = try await RedisConnection.connect(configuration: configuration)
        timing.handOver(to: reactor)
        try await Self.waitUntilWatched(reactor, 1)
        _ = try await admin.send("CLIENT", "PAUSE", "600")
        await #expect {
            _ = try await timing.send("GET", "paused")
        } throws: { error in
            let error = error as? RedisClientError
            return error?.code == .timeout && error?.commandWasSent == true
        }
        await timing.waitUntilClosed()
        try await Self.waitUntilWatched(reactor, 0)

        let dropped = try await RedisConnection.connect(to: try server.redisURL())
        dropped.handOver(to: reactor)
        try await Self.waitUntilWatched(reactor, 1)
        await server.stop()
        await dropped.waitUntilClosed()
        try await Self.waitUntilWatched(reactor, 0)
    }
}
