import RedisClient

/// How `RedisStateStore` encodes script arguments and decodes script replies (see `RedisScripts`).
extension RedisStateStore {
    /// A script argument: the UTF-8 bytes of `text`.
    static func argument(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    /// A precondition as the scripts' `mode, tags` pair: `n`/`m`/`x` followed by the fencing
    /// token's digits (when set), then `*` or comma-separated versions.
    static func arguments(_ precondition: Precondition) -> [[UInt8]] {
        var list = RESPCommand.ArgumentList()
        write(precondition, tags: tagsArgument(precondition), into: &list)
        return list.arguments
    }

    /// Writes ``arguments(_:)-(Precondition)`` into `sink`, with its tags argument already built (`tagsArgument`).
    static func write<Sink: RESPArgumentSink & ~Copyable>(_ precondition: Precondition, tags: [UInt8], into sink: inout Sink) {
        let mode: UInt8
        switch precondition.entityTags {
        case .none: mode = UInt8(ascii: "n")
        case .ifMatch: mode = UInt8(ascii: "m")
        case .ifNoneMatch: mode = UInt8(ascii: "x")
        }
        sink.append(mode, decimal: precondition.fencingToken)
        sink.append(tags)
    }

    /// A precondition's tags argument: empty without entity tags, else `*` or comma-separated versions.
    static func tagsArgument(_ precondition: Precondition) -> [UInt8] {
        switch precondition.entityTags {
        case .none: return []
        case .ifMatch(.any), .ifNoneMatch(.any): return argument("*")
        case .ifMatch(.versions(let versions)), .ifNoneMatch(.versions(let versions)):
            return argument(versions.map(String.init).joined(separator: ","))
        }
    }

    /// A write's options as the scripts' `ttl mode, ttl seconds, sliding, default ttl, labels`
    /// arguments; labels are '' (keep) or `=` followed by `encoded(labels:)`.
    func arguments(_ options: WriteOptions) -> [[UInt8]] {
        var list = RESPCommand.ArgumentList()
        write(options, labels: Self.labelsArgument(options), into: &list)
        return list.arguments
    }

    /// Writes ``arguments(_:)-(WriteOptions)`` into `sink`, with its labels argument already built (`labelsArgument`).
    func write<Sink: RESPArgumentSink & ~Copyable>(_ options: WriteOptions, labels: [UInt8], into sink: inout Sink) {
        switch options.ttl {
        case .keep:
            sink.append(UInt8(ascii: "k"), decimal: nil)
            sink.append([])
        case .persist:
            sink.append(UInt8(ascii: "p"), decimal: nil)
            sink.append([])
        case .seconds(let seconds):
            sink.append(UInt8(ascii: "s"), decimal: nil)
            sink.append(decimal: seconds)
        }
        switch options.slidingTTL {
        case nil: sink.append([])
        case true?: sink.append(UInt8(ascii: "1"), decimal: nil)
        case false?: sink.append(UInt8(ascii: "0"), decimal: nil)
        }
        if let fallback = configuration.defaultTTLSeconds, fallback > 0 {
            sink.append(decimal: fallback)
        } else {
            sink.append([])
        }
        sink.append(labels)
    }

    /// A write's labels argument: empty (keep them), or `=` followed by `encoded(labels:)`.
    static func labelsArgument(_ options: WriteOptions) -> [UInt8] {
        options.labels.map { [UInt8(ascii: "=")] + encoded(labels: $0) } ?? []
    }

    /// Labels as the record's `lb` field: `<key>=<value length>:<value>` per label, keys ascending.
    static func encoded(labels: SessionLabels) -> [UInt8] {
        var bytes: [UInt8] = []
        for key in labels.keys.sorted() {
            let value = labels[key]!
            bytes += Array("\(key)=\(value.utf8.count):".utf8)
            bytes += Array(value.utf8)
        }
        return bytes
    }

    /// Decodes a record's `lb` field; malformed trailing bytes are ignored.
    static func decodedLabels(_ bytes: [UInt8]) -> SessionLabels {
        var labels: SessionLabels = [:]
        var index = 0
        while index < bytes.count {
            guard let equals = bytes[index...].firstIndex(of: UInt8(ascii: "=")),
                  let colon = bytes[equals...].firstIndex(of: UInt8(ascii: ":")),
                  let length = Int(String(decoding: bytes[(equals + 1)..<colon], as: UTF8.self)),
                  colon + 1 + length <= bytes.count else { break }
            let key = String(decoding: bytes[index..<equals], as: UTF8.self)
            labels[key] = String(decoding: bytes[(colon + 1)..<(colon + 1 + length)], as: UTF8.self)
            index = colon + 1 + length
        }
        return labels
    }

    /// A script reply split into its status (`OK`, `PF`, …) and the elements after it.
    struct Reply {
        var status: String
        var values: [RESPValue]

        /// Splits `value`, which must be an array starting with a status string.
        init(_ value: RESPValue, script: RedisScript) throws(StoreError) {
            guard let elements = value.array, let status = elements.first?.string else {
                throw StoreError.internalError(reason: "redis \(script.name): unexpected reply \(value)")
            }
            self.status = status
            self.values = Array(elements.dropFirst())
        }

        /// The integer at `index`.
        func int(_ index: Int) throws(StoreError) -> Int64 {
            guard index < values.count, let value = values[index].int else { throw malformed }
            return value
        }

        /// The error for a reply that does not have the expected shape.
        var malformed: StoreError {
            .internalError(reason: "redis: malformed \(status) reply \(values)")
        }

        /// Throws the `StoreError` a refusal stands for; returns for `OK` (and `RP`).
        func check(_ configuration: StoreConfiguration) throws(StoreError) {
            switch status {
            case "OK", "RP": return
            case "PF": throw StoreError.preconditionFailed(currentVersion: values.first?.int)
            case "NF": throw StoreError.sessionNotFound
            case "NM": throw StoreError.noMessages
            case "MN": throw StoreError.messageNotFound
            case "KC": throw StoreError.keyConflict
            case "TL": throw StoreError.sessionTooLarge(limit: configuration.maxSessionBytes)
            case "TM": throw StoreError.tooManyMessages(limit: configuration.maxMessages)
            case "IR": throw StoreError.idempotencyKeyReused
            case "SF": throw StoreError.staleFencingToken(current: values.first?.int ?? 0)
            case "LH": throw StoreError.leaseHeld(holder: values.first?.string ?? "", expiresAt: values.count > 1 ? values[1].int ?? 0 : 0)
            case "NL": throw StoreError.leaseNotFound
            default: throw malformed
            }
        }
    }

    /// Decodes the scripts' metadata array (`record_meta`): version, created, updated, expires
    /// (-1: never), ttl (-1: none), sliding (0/1), message count, state bytes, message bytes,
    /// encoded labels, then the live lease (`{holder, token, acquired, expires}`) or nil.
    static func metadata(_ value: RESPValue, key: SessionKey) throws(StoreError) -> SessionMetadata {
        guard let elements = value.array, elements.count == 11 else {
            throw StoreError.internalError(reason: "redis: malformed session metadata \(value)")
        }
        let fields = elements[0..<9].compactMap(\.int)
        guard fields.count == 9 else { throw StoreError.internalError(reason: "redis: malformed session metadata \(value)") }
        return SessionMetadata(
            agentID: key.agentID, sessionID: key.sessionID, version: fields[0],
            createdAt: fields[1], updatedAt: fields[2],
            expiresAt: fields[3] < 0 ? nil : fields[3], ttlSeconds: fields[4] < 0 ? nil : fields[4],
            slidingTTL: fields[5] == 1, messageCount: Int(fields[6]), stateBytes: Int(fields[7]),
            messageBytes: Int(fields[8]), labels: decodedLabels(elements[9].bytes ?? []), lease: try lease(elements[10])
        )
    }

    /// ``metadata(_:key:)`` read in place: the next element of `reader`, moved past it.
    static func metadata(_ reader: inout RESPReader, key: SessionKey) throws(StoreError) -> SessionMetadata {
        let malformed = StoreError.internalError(reason: "redis: malformed session metadata")
        guard case .array(11?)? = reader.next() else { throw malformed }
        var fields: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &fields) { raw throws(StoreError) in
            let numbers = raw.bindMemory(to: Int64.self)
            for index in 0..<9 {
                guard let value = reader.nextInteger() else { throw malformed }
                numbers[index] = value
            }
        }
        var labels: SessionLabels = [:]
        switch reader.next() {
        case .bulkString(let bytes?)?: if !bytes.isEmpty { labels = decodedLabels(Array(bytes)) }
        case .bulkString(nil)?: break
        default: throw malformed
        }
        var lease: Lease?
        switch reader.next() {
        case .array(4?)?:
            guard case .bulkString(let holder?)? = reader.next(), let holder = String(validating: holder, as: UTF8.self),
                  let token = reader.nextInteger(), let acquired = reader.nextInteger(), let expires = reader.nextInteger() else {
                throw StoreError.internalError(reason: "redis: malformed lease")
            }
            lease = Lease(holder: holder, fencingToken: token, acquiredAt: acquired, expiresAt: expires)
        case .array(nil)?, .bulkString(nil)?: break
        default: throw StoreError.internalError(reason: "redis: malformed lease")
        }
        return SessionMetadata(
            agentID: key.agentID, sessionID: key.sessionID, version: fields.0,
            createdAt: fields.1, updatedAt: fields.2,
            expiresAt: fields.3 < 0 ? nil : fields.3, ttlSeconds: fields.4 < 0 ? nil : fields.4,
            slidingTTL: fields.5 == 1, messageCount: Int(fields.6), stateBytes: Int(fields.7),
            messageBytes: Int(fields.8), labels: labels, lease: lease
        )
    }

    /// Decodes a `{holder, token, acquired, expires}` array; nil for a nil reply.
    static func lease(_ value: RESPValue) throws(StoreError) -> Lease? {
        guard let fields = value.array else { return nil }
        guard fields.count == 4, let holder = fields[0].string, let token = fields[1].int, let acquired = fields[2].int,
              let expires = fields[3].int else {
            throw StoreError.internalError(reason: "redis: malformed lease \(value)")
        }
        return Lease(holder: holder, fencingToken: token, acquiredAt: acquired, expiresAt: expires)
    }

    /// Decodes a messages-key member, `<seq>:<raw bytes>` or `<seq>#<key length>:<key><raw bytes>`.
    static func message(_ value: RESPValue) throws(StoreError) -> Message {
        let malformed = StoreError.internalError(reason: "redis: malformed message member")
        guard let member = value.bytes else { throw malformed }
        func number(_ from: Int) -> (value: Int64, end: Int)? {
            var index = from
            var result: Int64 = 0
            while index < member.count, member[index] >= 0x30, member[index] <= 0x39, index - from < 19 {
                result = result * 10 + Int64(member[index] - 0x30)
                index += 1
            }
            return index > from && index < member.count ? (result, index) : nil
        }
        guard let (seq, end) = number(0) else { throw malformed }
        if member[end] == UInt8(ascii: ":") { return Message(seq: seq, data: Array(member[(end + 1)...])) }
        guard member[end] == UInt8(ascii: "#"), let (length, colon) = number(end + 1), member[colon] == UInt8(ascii: ":"),
              colon + 1 + Int(length) <= member.count else { throw malformed }
        let keyEnd = colon + 1 + Int(length)
        return Message(seq: seq, data: Array(member[keyEnd...]), key: String(decoding: member[(colon + 1)..<keyEnd], as: UTF8.self))
    }

    /// Message keys as script arguments: `'1'` plus one key per message (`''` for none), or `'0'`.
    static func arguments(keys: [String?]?) -> (flag: [UInt8], keys: [[UInt8]]) {
        guard let keys else { return (argument("0"), []) }
        return (argument("1"), keys.map { $0.map(argument) ?? [] })
    }
}
