import Store
import Testing

/// Atomicity under concurrent writers: one winner per version, dense seqs, one idempotent append.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func concurrentIfMatchWritersHaveExactlyOneWinner(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("0"), options: .init())

        let outcomes = await withTaskGroup(of: Result<SaveResult, StoreError>.self) { group in
            for writer in 1...20 {
                group.addTask {
                    do {
                        return .success(try await store.save(key, state: Fixtures.json("\(writer)"), options: .init(precondition: .ifMatch(.versions([1])))))
                    } catch let error as StoreError {
                        return .failure(error)
                    } catch {
                        return .failure(.internalError(reason: "\(error)"))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        #expect(winners.first?.metadata.version == 2)
        for case .failure(let error) in outcomes {
            #expect(error == .preconditionFailed(currentVersion: 2))
        }
        let final = try await store.load(key)
        #expect(final.metadata.version == 2)
        #expect((1...20).map { Fixtures.json("\($0)") }.contains(try #require(final.state)))
    }

    @Test(arguments: StoreBackend.allCases)
    func concurrentAppendersGetDenseDistinctSeqs(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let results = try await withThrowingTaskGroup(of: [AppendResult].self) { group in
            for writer in 0..<10 {
                group.addTask {
                    var mine: [AppendResult] = []
                    for index in 0..<20 {
                        mine.append(try await store.append(key, messages: [Fixtures.json("[\(writer),\(index)]")], options: .init(), idempotency: nil))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(results.count == 200)
        #expect(Set(results.map(\.firstSeq)) == Set(1...200))
        #expect(Set(results.map(\.version)) == Set(1...200))
        #expect(results.allSatisfy { $0.firstSeq == $0.lastSeq && $0.version == $0.firstSeq })

        let log = try await store.readMessages(key, limit: 1000, after: nil).messages
        #expect(log.map(\.seq) == Array(1...200))
        #expect(Set(log.map(\.data)).count == 200)
        let meta = try await store.load(key).metadata
        #expect(meta.messageCount == 200)
        #expect(meta.version == 200)
    }

    @Test(arguments: StoreBackend.allCases)
    func concurrentAppendsWithOneIdempotencyKeyAppendOnce(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let token = IdempotencyToken(key: "once", bodyDigest: "body")
        let body = [Fixtures.json("\"a\""), Fixtures.json("\"b\""), Fixtures.json("\"c\"")]
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for _ in 0..<10 {
                group.addTask { try await store.append(key, messages: body, options: .init(), idempotency: token) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 10)
        #expect(results.allSatisfy { $0 == AppendResult(version: 1, firstSeq: 1, lastSeq: 3, messageCount: 3) })
        let meta = try await store.load(key).metadata
        #expect(meta.messageCount == 3)
        #expect(meta.version == 1)
    }
}
