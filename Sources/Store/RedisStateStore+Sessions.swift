import RedisClient

extension RedisStateStore {
    /// Replaces the state of a session, creating it if missing; one `EVALSHA`. Messages are untouched.
    /// - Throws: `StoreError.preconditionFailed`, `StoreError.unavailable`.
    public func save(_ key: SessionKey, state: [UInt8], options: WriteOptions) async throws -> SaveResult {
        let script = RedisScript.save
        let reply = try await run(script, keys: sessionKeys(key, setting: options), arguments: saveArguments(key, state: state, options: options))
        return try saved(reply, key: key)
    }

    /// The arguments of the save script.
    func saveArguments(_ key: SessionKey, state: [UInt8], options: WriteOptions) -> [[UInt8]] {
        var list = RESPCommand.ArgumentList()
        writeSaveArguments(key, state: state, options: options, built: SaveArgumentParts(options), into: &list)
        return list.arguments
    }

    /// The number of arguments ``writeSaveArguments(_:state:options:built:into:)`` writes.
    static let saveArgumentCount = 10

    /// The save script's arguments that take building (entity tags, labels): built once, before a command's
    /// body, which runs twice (``RESPCommand/init(argumentCount:_:)``). Both are empty in the common case.
    struct SaveArgumentParts {
        let tags: [UInt8]
        let labels: [UInt8]

        init(_ options: WriteOptions) {
            tags = RedisStateStore.tagsArgument(options.precondition)
            labels = RedisStateStore.labelsArgument(options)
        }
    }

    /// Writes the save script's arguments, without an array per argument: the precondition's and the
    /// options' (as every mutation script takes them), then the state, the session ID and the size limit.
    func writeSaveArguments<Sink: RESPArgumentSink & ~Copyable>(
        _ key: SessionKey, state: [UInt8], options: WriteOptions, built: SaveArgumentParts, into sink: inout Sink
    ) {
        Self.write(options.precondition, tags: built.tags, into: &sink)
        write(options, labels: built.labels, into: &sink)
        sink.append(state)
        sink.append(utf8: key.sessionID)
        sink.append(decimal: Int64(configuration.maxSessionBytes))
    }

    /// The outcome of a save from the script's reply (its pruned count already taken off).
    /// - Throws: `StoreError.preconditionFailed` and the other refusals the reply carries.
    func saved(_ reply: RESPValue, key: SessionKey) throws -> SaveResult {
        let reply = try Reply(reply, script: .save)
        try reply.check(configuration)
        guard reply.values.count == 2 else { throw reply.malformed }
        return SaveResult(metadata: try Self.metadata(reply.values[1], key: key), created: try reply.int(0) == 1)
    }

    /// ``saved(_:key:)`` read in place, for the reply of an applied save (`OK`, `RP`) with its pruned count;
    /// nil for any other reply (refusals), which the caller decodes as a value.
    func saved(_ reply: RESPReply, key: SessionKey) throws -> SaveResult? {
        var reader = reply.reader
        guard case .array(4?)? = reader.next(), case .bulkString(let status?)? = reader.next(), status.count == 2,
              (status[0] == UInt8(ascii: "O") && status[1] == UInt8(ascii: "K")) || (status[0] == UInt8(ascii: "R") && status[1] == UInt8(ascii: "P"))
        else { return nil }
        guard let created = reader.nextInteger() else { throw StoreError.internalError(reason: "redis save: malformed reply") }
        let metadata = try Self.metadata(&reader, key: key)
        guard let pruned = reader.nextInteger() else { throw StoreError.internalError(reason: "redis save: reply without a pruned count") }
        if pruned > 0 { onIndexPruned(.write, Int(pruned)) }
        return SaveResult(metadata: metadata, created: created == 1)
    }

    /// Loads a session with its state in one `EVALSHA`, which also restarts the clock of a
    /// sliding-TTL session.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.unavailable`.
    public func load(_ key: SessionKey) async throws -> Session {
        let reply: RESPValue
        do {
            reply = try await client.sendRead([Self.hmget, recordKey(key)] + Self.loadFields)
        } catch {
            throw Self.storeError(error, operation: "load")
        }
        if let session = try RESPReply.with(reply, { try loaded($0, key: key) }) { return session }
        return try await loadWithScript(key)
    }

    /// The plain load: one HMGET of ``loadFields``. The record holds every field, the state and the message
    /// count ('mc'), so the reply is an atomic snapshot. (The async `load` sends the same as arguments.)
    func loadCommand(_ key: SessionKey) -> RESPCommand {
        let record = recordKey(key)
        return RESPCommand(argumentCount: 2 + Self.loadFields.count) { command in
            command.append(encoded: Self.encodedHMGET)
            command.append(record)
            command.append(encoded: Self.encodedLoadFields)
        }
    }

    private static let encodedHMGET = RESPCommand.encodedArguments([hmget])
    private static let encodedLoadFields = RESPCommand.encodedArguments(loadFields)

    /// The save script's `EVALSHA`, written straight into one command.
    func saveCommand(_ key: SessionKey, state: [UInt8], options: WriteOptions, sha: [UInt8]) -> RESPCommand {
        let built = SaveArgumentParts(options)
        let keys = sessionKeyParts(key, setting: options)
        return RESPCommand(argumentCount: 3 + keys.count + Self.saveArgumentCount) { command in
            command.append(Self.evalsha)
            command.append(sha)
            command.append(decimal: Int64(keys.count))
            keys.append(to: &command)
            writeSaveArguments(key, state: state, options: options, built: built, into: &command)
        }
    }

    static let evalsha = Array("EVALSHA".utf8)

    /// The session in the reply to ``loadCommand(_:)``, read in place, or nil when the load takes the script:
    /// a sliding session's read restarts its clock, a write, and so does a record written before 'mc' existed.
    /// - Throws: `StoreError.sessionNotFound`, or `internalError` for a malformed reply.
    func loaded(_ reply: RESPReply, key: SessionKey) throws -> Session? {
        let count = Self.loadFields.count
        return try withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer?.self, capacity: count) { fields in
            var reader = reply.reader
            guard case .array(count?)? = reader.next() else { throw Self.malformedLoad(reply) }
            for index in 0..<count {
                guard case .bulkString(let bytes)? = reader.next() else { throw Self.malformedLoad(reply) }
                fields.initializeElement(at: index, to: bytes)
            }
            func int(_ index: Int) -> Int64? { fields[index].flatMap(RESPReader.integer(in:)) }
            guard let version = int(0) else { throw StoreError.sessionNotFound }
            guard fields[5].map({ $0.count == 1 && $0[0] == UInt8(ascii: "1") }) != true, let messageCount = int(6) else { return nil }
            let expiresAt = int(3)
            // Redis drops the key a millisecond after its deadline; the contract counts the deadline itself.
            if let expiresAt, expiresAt <= WallClock.milliseconds() { throw StoreError.sessionNotFound }
            guard let createdAt = int(1), let updatedAt = int(2) else {
                throw StoreError.internalError(reason: "redis: session record without timestamps")
            }
            let state = fields[7].map { Array($0) }
            var lease: Lease?
            if let holder = fields[10].flatMap({ String(validating: $0, as: UTF8.self) }), let token = int(11), let acquired = int(12),
               let leaseExpiry = int(13), leaseExpiry > WallClock.milliseconds() {
                lease = Lease(holder: holder, fencingToken: token, acquiredAt: acquired, expiresAt: leaseExpiry)
            }
            let labels = fields[9].map { $0.isEmpty ? [:] : Self.decodedLabels(Array($0)) } ?? [:]
            let metadata = SessionMetadata(
                agentID: key.agentID, sessionID: key.sessionID, version: version, createdAt: createdAt, updatedAt: updatedAt,
                expiresAt: expiresAt, ttlSeconds: int(4), slidingTTL: false,
                messageCount: Int(messageCount), stateBytes: state?.count ?? 0, messageBytes: Int(int(8) ?? 0),
                labels: labels, lease: lease
            )
            return Session(metadata: metadata, state: state)
        }
    }

    private static func malformedLoad(_ reply: RESPReply) -> StoreError {
        .internalError(reason: "redis: malformed HMGET reply \(reply.value())")
    }

    static let hmget = Array("HMGET".utf8)

    /// The record fields a plain load reads, in the order `load` decodes them.
    static let loadFields: [[UInt8]] = ["v", "c", "u", "e", "t", "sl", "mc", "st", "mb", "lb", "lh", "lt", "la", "le"].map { Array($0.utf8) }

    /// The scripted load: one `EVALSHA` that reads and restarts a sliding session's clock.
    func loadWithScript(_ key: SessionKey) async throws -> Session {
        let script = RedisScript.load
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: []), script: script)
        try reply.check(configuration)
        guard reply.values.count == 2 else { throw reply.malformed }
        return Session(metadata: try Self.metadata(reply.values[0], key: key), state: reply.values[1].bytes)
    }

    /// Lists the agent's live sessions, newest `updatedAt` first, ties by `sessionID` descending, in
    /// two `EVALSHA`s per index bucket costing O(log n + page) each (one bucket in the standalone
    /// layout), merged in list order: every bucket starts from the same cursor, since the order is
    /// total. The first finds the page's IDs in the index, the second reads their records with
    /// their keys declared (`sessionPage`). Index entries whose session is gone are removed on the
    /// way and counted through `onIndexPruned`. Never extends a sliding TTL.
    /// - Parameters:
    ///   - limit: the page size (1–1000, validated by the caller).
    ///   - cursor: where the previous page ended, or nil for the first page.
    /// - Throws: `StoreError.unavailable`.
    public func list(agentID: String, limit: Int, cursor: ListCursor?, label: LabelFilter?) async throws -> SessionPage {
        try await mergedPage(
            limit: limit, before: { Self.listsBefore($0, $1) }, position: { ListCursor(updatedAt: $0.updatedAt, sessionID: $0.sessionID) }
        ) { bucket in
            let arguments = [
                Self.argument(String(max(limit, 0))),
                cursor.map { Self.argument(String($0.updatedAt)) } ?? [],
                cursor.map { Self.argument($0.sessionID) } ?? [],
            ]
            let keys = label.map { self.labelKeys(agentID, $0, bucket: bucket) } ?? self.indexKeys(agentID, bucket: bucket)
            return try await self.sessionPage(.list, keys: keys, arguments: arguments, agentID: agentID, bucket: bucket, label: label)
        }
    }

    /// Lists the agent's live sessions whose ID starts with `prefix`, by ID ascending, in two
    /// `EVALSHA`s per index bucket, the first over its ID set (`ZRANGEBYLEX`), O(log n + page) each, merged.
    public func list(agentID: String, prefix: String, limit: Int, after: String?) async throws -> SessionPage {
        // A cursor below the prefix starts at the prefix itself.
        let start = after.flatMap { $0.utf8.lexicographicallyPrecedes(prefix.utf8) ? nil : $0 }
        return try await mergedPage(
            limit: limit, before: { $0.sessionID.utf8.lexicographicallyPrecedes($1.sessionID.utf8) },
            position: { ListCursor(updatedAt: 0, sessionID: $0.sessionID) }
        ) { bucket in
            let arguments = [Self.argument(String(max(limit, 0))), Self.argument(prefix), start.map(Self.argument) ?? []]
            return try await self.sessionPage(
                .listByPrefix, keys: self.indexKeys(agentID, bucket: bucket), arguments: arguments, agentID: agentID, bucket: bucket, label: nil)
        }
    }

    /// Whether position `a` comes before `b` in list order (newest first, ties by session ID descending).
    static func listsBefore(_ a: ListCursor, _ b: ListCursor) -> Bool {
        a.updatedAt != b.updatedAt ? a.updatedAt > b.updatedAt : b.sessionID.utf8.lexicographicallyPrecedes(a.sessionID.utf8)
    }

    /// Whether session `a` comes before `b` in list order.
    static func listsBefore(_ a: SessionMetadata, _ b: SessionMetadata) -> Bool {
        listsBefore(ListCursor(updatedAt: a.updatedAt, sessionID: a.sessionID), ListCursor(updatedAt: b.updatedAt, sessionID: b.sessionID))
    }

    /// One bucket's part of a page: its live sessions in list order, whether more follow, and the
    /// position of the last index entry it looked at (its frontier; nil when it found none).
    typealias PagePart = (sessions: [SessionMetadata], more: Bool, frontier: ListCursor?)

    /// Runs `page` for every index bucket (concurrently when there are several) and merges the
    /// parts: the first `limit` sessions in `before` order, with a cursor when more follow anywhere.
    ///
    /// A part may hold fewer sessions than entries it looked at (`sessionPage` leaves out sessions
    /// that went between its two steps), so the page never goes past the earliest frontier of a part
    /// that has more: that bucket may hold sessions before anything past it. When the page is not
    /// full, the cursor is that frontier; the page may then be short, or empty, while a cursor follows.
    private func mergedPage(
        limit: Int, before: @escaping @Sendable (ListCursor, ListCursor) -> Bool,
        position: (SessionMetadata) -> ListCursor,
        page: @escaping @Sendable (Int) async throws -> PagePart
    ) async throws -> SessionPage {
        let limit = max(limit, 0)
        var parts: [PagePart] = []
        if layout.buckets == 1 {
            parts = [try await page(0)]
        } else {
            parts = try await withThrowingTaskGroup(of: PagePart.self) { group in
                for bucket in 0..<layout.buckets { group.addTask { try await page(bucket) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let frontier = parts.filter(\.more).compactMap(\.frontier).min(by: before)
        var sessions = parts.flatMap(\.sessions)
        if parts.count > 1 { sessions.sort { before(position($0), position($1)) } }
        if let frontier { sessions.removeAll { before(frontier, position($0)) } }
        if sessions.count > limit {
            sessions.removeSubrange(limit...)
            return SessionPage(sessions: sessions, nextCursor: sessions.last.map(position))
        }
        return SessionPage(sessions: sessions, nextCursor: frontier)
    }

    /// Runs a list script, which names a page of one bucket as `{'OK', pruned, more, {id, score, …}}`,
    /// then `listRecords` for the records of those sessions, declared as its keys.
    ///
    /// The two steps are not one atomic step. A session deleted, expired or updated between them is
    /// left out of the part: `listRecords` answers false for it (an updated session has moved up the
    /// list, so a client paging down would not meet it here either).
    private func sessionPage(
        _ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]], agentID: String, bucket: Int, label: LabelFilter?
    ) async throws -> PagePart {
        let reply = try Reply(await run(script, keys: keys, arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 3, let entries = reply.values[2].array, entries.count % 2 == 0 else { throw reply.malformed }
        var pruned = try reply.int(0)
        defer { if pruned > 0 { onIndexPruned(.list, Int(pruned)) } }
        let more = try reply.int(1) == 1
        guard !entries.isEmpty else { return ([], more, nil) }

        let base = sessionKeyBase(agentID, bucket: bucket)
        var ids: [String] = []
        var recordKeys = keys
        var recordArguments = [label.map { Self.argument($0.key) } ?? [], label.map { Self.argument($0.value) } ?? []]
        ids.reserveCapacity(entries.count / 2)
        recordKeys.reserveCapacity(keys.count + entries.count)
        for index in stride(from: 0, to: entries.count, by: 2) {
            guard let id = entries[index].string, let score = entries[index + 1].bytes else { throw reply.malformed }
            let record = base + Array(id.utf8)
            ids.append(id)
            recordKeys += [record, record + Array(":messages".utf8)]
            recordArguments.append(score)
        }
        let last = entries[entries.count - 1].string ?? ""
        guard let lastScore = last.isEmpty ? 0 : Int64(last) ?? Double(last).map({ Int64($0) }) else { throw reply.malformed }
        let frontier = ListCursor(updatedAt: lastScore, sessionID: ids[ids.count - 1])

        let records = try Reply(await run(.listRecords, keys: recordKeys, arguments: recordArguments), script: .listRecords)
        guard records.values.count == 2, let metas = records.values[1].array, metas.count == ids.count else { throw records.malformed }
        pruned += try records.int(0)
        var sessions: [SessionMetadata] = []
        sessions.reserveCapacity(ids.count)
        for (id, meta) in zip(ids, metas) where meta.array != nil {
            sessions.append(try Self.metadata(meta, key: SessionKey(agentID: agentID, sessionID: id)))
        }
        return (sessions, more, frontier)
    }

    /// Deletes a session (record, messages, idempotency records and index entry) in one `EVALSHA`.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.unavailable`.
    public func delete(_ key: SessionKey, precondition: Precondition) async throws {
        let script = RedisScript.delete
        let arguments = Self.arguments(precondition) + [Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
    }

    /// Deletes every session in the agent's index with all their keys, then the index, in batches
    /// of `deleteAllBatchSize` sessions (one `EVALSHA` each), so no script blocks Redis for long.
    /// Not atomic as a whole: a session created while it runs may survive or be deleted.
    /// - Returns: how many live (unexpired) sessions were deleted.
    /// - Throws: `StoreError.unavailable`; sessions deleted by earlier batches stay deleted.
    public func deleteAll(agentID: String) async throws -> Int {
        try await deleteInBatches(.deleteAll, agentID: agentID, extra: [])
    }

    /// Deletes every session of the agent whose ID starts with `prefix`, in batches of
    /// `deleteAllBatchSize` found by `ZRANGEBYLEX` in the ID set (one `EVALSHA` each). Like
    /// `deleteAll`, each session goes atomically, the whole is not atomic.
    /// - Returns: how many live sessions were deleted.
    public func deleteAll(agentID: String, prefix: String) async throws -> Int {
        try await deleteInBatches(.deleteByPrefix, agentID: agentID, extra: [Self.argument(prefix)])
    }

    /// Runs a batch-delete script on every index bucket in turn (each batch atomic), until it
    /// reports that nothing is left there (its second reply element is 0).
    private func deleteInBatches(_ script: RedisScript, agentID: String, extra: [[UInt8]]) async throws -> Int {
        var deleted = 0
        for bucket in 0..<layout.buckets {
            deleted += try await deleteInBatches(script, agentID: agentID, bucket: bucket, extra: extra)
        }
        return deleted
    }

    private func deleteInBatches(_ script: RedisScript, agentID: String, bucket: Int, extra: [[UInt8]]) async throws -> Int {
        let arguments = [sessionKeyBase(agentID, bucket: bucket), Self.argument(String(Self.deleteAllBatchSize))] + extra
        var deleted = 0
        // Bounded: at most 10 million sessions per bucket and call, far beyond any realistic agent.
        for _ in 0..<20_000 {
            let reply = try await run(script, keys: indexKeys(agentID, bucket: bucket), arguments: arguments)
            guard let values = reply.array, values.count == 2, let live = values[0].int, let left = values[1].int else {
                throw StoreError.internalError(reason: "redis \(script.name): unexpected reply \(reply)")
            }
            deleted += Int(live)
            if left == 0 { break }
        }
        return deleted
    }
}
