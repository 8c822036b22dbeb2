import Store
import Telemetry

/// Renders the API's response bodies.
enum ResourceJSON {
    /// The session resource; `state` is included only when given (`.some(nil)` renders `null`).
    static func session(_ metadata: SessionMetadata, state: [UInt8]?? = nil) -> [UInt8] {
        JSONWriter.body(capacity: 320 + ((state ?? nil)?.count ?? 0)) { write(metadata, state: state, into: &$0) }
    }

    /// Each member's name comes with its punctuation in one constant (`,"version":`): one copy each,
    /// the hottest writer of the API (every session read and write).
    static func write(_ metadata: SessionMetadata, state: [UInt8]?? = nil, into json: inout JSONWriter) {
        json.raw(#"{"agent_id":"#); json.string(metadata.agentID)
        json.raw(#","session_id":"#); json.string(metadata.sessionID)
        json.raw(#","version":"#); json.int(metadata.version)
        json.raw(#","created_at":"#); json.timestamp(metadata.createdAt)
        json.raw(#","updated_at":"#); json.timestamp(metadata.updatedAt)
        json.raw(#","expires_at":"#); json.timestamp(metadata.expiresAt)
        json.raw(#","ttl_seconds":"#); json.int(metadata.ttlSeconds)
        json.raw(#","sliding_ttl":"#); json.bool(metadata.slidingTTL)
        json.raw(#","message_count":"#); json.int(metadata.messageCount)
        json.raw(#","state_bytes":"#); json.int(metadata.stateBytes)
        json.raw(#","message_bytes":"#); json.int(metadata.messageBytes)
        json.raw(#","labels":{"#)
        if !metadata.labels.isEmpty {
            for (index, name) in metadata.labels.keys.sorted().enumerated() {
                if index > 0 { json.raw(",") }
                json.string(name); json.raw(":"); json.string(metadata.labels[name]!)
            }
        }
        if let lease = metadata.lease {
            json.raw(#"},"lease":{"holder":"#); json.string(lease.holder)
            json.raw(#","fencing_token":"#); json.int(lease.fencingToken)
            json.raw(#","expires_at":"#); json.timestamp(lease.expiresAt)
            json.raw("}")
        } else {
            json.raw(#"},"lease":null"#)
        }
        if let state {
            json.raw(#","state":"#)
            if let state { json.raw(state) } else { json.raw("null") }
        }
        json.raw("}")
    }

    /// `{"holder", "fencing_token", "acquired_at", "expires_at"}`
    static func lease(_ lease: Lease) -> [UInt8] {
        var json = JSONWriter(capacity: 160 + lease.holder.utf8.count)
        json.raw("{"); json.key("holder"); json.string(lease.holder)
        json.raw(","); json.key("fencing_token"); json.int(lease.fencingToken)
        json.raw(","); json.key("acquired_at"); json.timestamp(lease.acquiredAt)
        json.raw(","); json.key("expires_at"); json.timestamp(lease.expiresAt)
        json.raw("}")
        return json.bytes
    }

    /// `{"sessions": [...], "next_cursor": ...}`
    static func sessionPage(_ page: SessionPage) -> [UInt8] {
        var json = JSONWriter(capacity: 64 + page.sessions.count * 320)
        json.raw("{"); json.key("sessions"); json.raw("[")
        for (index, metadata) in page.sessions.enumerated() {
            if index > 0 { json.raw(",") }
            write(metadata, into: &json)
        }
        json.raw("],"); json.key("next_cursor")
        if let cursor = page.nextCursor { json.string(cursor.encoded) } else { json.raw("null") }
        json.raw("}")
        return json.bytes
    }

    /// `{"version", "first_seq", "last_seq", "message_count"}`
    static func appendResult(_ result: AppendResult) -> [UInt8] {
        var json = JSONWriter(capacity: 96)
        json.raw("{"); json.key("version"); json.int(result.version)
        json.raw(","); json.key("first_seq"); json.int(result.firstSeq)
        json.raw(","); json.key("last_seq"); json.int(result.lastSeq)
        json.raw(","); json.key("message_count"); json.int(result.messageCount)
        json.raw("}")
        return json.bytes
    }

    /// `{"version", "first_seq", "last_seq", "message_count"}` of a replace (seqs null when empty).
    static func replaceResult(_ result: ReplaceResult) -> [UInt8] {
        var json = JSONWriter(capacity: 96)
        json.raw("{"); json.key("version"); json.int(result.version)
        json.raw(","); json.key("first_seq"); json.int(result.firstSeq)
        json.raw(","); json.key("last_seq"); json.int(result.lastSeq)
        json.raw(","); json.key("message_count"); json.int(result.messageCount)
        json.raw("}")
        return json.bytes
    }

    /// `{"deleted", "version"}` of a trim.
    static func trimResult(_ result: TrimResult) -> [UInt8] {
        Array("{\"deleted\":\(result.deleted),\"version\":\(result.version)}".utf8)
    }

    /// `{"messages": [{"seq", "data"[, "key"]}], "next_after": ..., "next_before": ...}`
    static func messagePage(_ page: MessagePage) -> [UInt8] {
        let dataBytes = page.messages.reduce(0) { $0 + $1.data.count }
        var json = JSONWriter(capacity: 48 + dataBytes + page.messages.count * 32)
        json.raw("{"); json.key("messages"); json.raw("[")
        for (index, message) in page.messages.enumerated() {
            if index > 0 { json.raw(",") }
            write(message, into: &json)
        }
        json.raw("],"); json.key("next_after"); json.int(page.nextAfter)
        json.raw(","); json.key("next_before"); json.int(page.nextBefore)
        json.raw("}")
        return json.bytes
    }

    /// `{"seq", "data"[, "key"]}`
    static func message(_ message: Message) -> [UInt8] {
        var json = JSONWriter(capacity: 48 + message.data.count + (message.key?.utf8.count ?? 0))
        write(message, into: &json)
        return json.bytes
    }

    private static func write(_ message: Message, into json: inout JSONWriter) {
        json.raw(#"{"seq":"#); json.int(message.seq)
        json.raw(#","data":"#); json.raw(message.data)
        if let key = message.key {
            json.raw(#","key":"#); json.string(key)
        }
        json.raw("}")
    }
}
