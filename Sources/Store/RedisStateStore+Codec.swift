import RedisClient

/// How `RedisStateStore` encodes script arguments and decodes script replies (see `RedisScripts`).
extension RedisStateStore {
    /// A script argument: the UTF-8 bytes of `text`.
    static func argument(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    /// A precondition as the scripts' `mode, tags` pair: `n`/`m`/`x`, then `*` or comma-separated versions.
    static func arguments(_ precondition: Precondition) -> [[UInt8]] {
        func tags(_ set: ETagSet) -> [UInt8] {
            switch set {
            case .any: return argument("*")
            case .versions(let versions): return argument(versions.map(String.init).joined(separator: ","))
            }
        }
        switch precondition {
        case .none: return [argument("n"), []]
        case .ifMatch(let set): return [argument("m"), tags(set)]
        case .ifNoneMatch(let set): return [argument("x"), tags(set)]
        }
    }

    /// A write's TTL options as the scripts' `ttl mode, ttl seconds, sliding, default ttl` quadruple.
    func arguments(_ options: WriteOptions) -> [[UInt8]] {
        var result: [[UInt8]]
        switch options.ttl {
        case .keep: result = [Self.argument("k"), []]
        case .persist: result = [Self.argument("p"), []]
        case .seconds(let seconds): result = [Self.argument("s"), Self.argument(String(seconds))]
        }
        switch options.slidingTTL {
        case nil: result.append([])
        case true?: result.append(Self.argument("1"))
        case false?: result.append(Self.argument("0"))
        }
        if let fallback = configuration.defaultTTLSeconds, fallback > 0 {
            result.append(Self.argument(String(fallback)))
        } else {
            result.append([])
        }
        return result
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
            default: throw malformed
            }
        }
    }

    /// Decodes the scripts' metadata array: version, created, updated, expires (-1: never),
    /// ttl (-1: none), sliding (0/1), message count, state bytes, message bytes.
    static func metadata(_ value: RESPValue, key: SessionKey) throws(StoreError) -> SessionMetadata {
        guard let fields = value.array?.compactMap(\.int), fields.count == 9 else {
            throw StoreError.internalError(reason: "redis: malformed session metadata \(value)")
        }
        return SessionMetadata(
            agentID: key.agentID, sessionID: key.sessionID, version: fields[0],
            createdAt: fields[1], updatedAt: fields[2],
            expiresAt: fields[3] < 0 ? nil : fields[3], ttlSeconds: fields[4] < 0 ? nil : fields[4],
            slidingTTL: fields[5] == 1, messageCount: Int(fields[6]), stateBytes: Int(fields[7]),
            messageBytes: Int(fields[8])
        )
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
