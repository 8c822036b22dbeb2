import Store

/// A public door to the internal ``JSONScanner`` for the libFuzzer target `FuzzJSONScanner`
/// (`Fuzz/FuzzJSONScanner`), which links `App` without `@testable`.
public enum JSONScannerFuzzing {
    /// Scans a document the way a request body is scanned and checks the scanner's own promises:
    /// every top-level member's range and every element of an array member lies inside the document
    /// and is itself one valid JSON value. Traps (so libFuzzer reports a crash) when a promise is broken.
    /// - Returns: Whether the document is valid JSON.
    @discardableResult
    public static func check(_ document: [UInt8]) -> Bool {
        let members: [JSONScanner.Member]?
        do {
            members = try JSONScanner.topLevelMembers(of: document)
        } catch {
            precondition(error.offset >= 0 && error.offset <= document.count, "error offset outside the document")
            return false
        }
        for member in members ?? [] {
            precondition(member.range.lowerBound >= 0 && member.range.upperBound <= document.count, "member range outside the document")
            let value = Array(document[member.range])
            precondition(isValid(value), "member value does not re-validate")
            if member.kind == .array {
                for element in JSONScanner.arrayElements(of: document, in: member.range) {
                    precondition(element.lowerBound >= member.range.lowerBound && element.upperBound <= member.range.upperBound,
                                 "array element outside its array")
                    precondition(isValid(Array(document[element])), "array element does not re-validate")
                }
            }
        }
        checkBodies(document)
        return true
    }

    /// Runs the request-body parsers on a valid document and checks what they promise: labels
    /// within DESIGN §11's rules, a lease body's holder and TTL in range, messages and keys parallel.
    private static func checkBodies(_ document: [UInt8]) {
        if let save = try? SaveBody(document, maxTTL: 2_592_000), let labels = save.labels {
            precondition(labels.count <= LabelRules.maxLabels, "more than 16 labels accepted")
            precondition(labels.allSatisfy { LabelRules.isValidKey($0.key) && LabelRules.isValidValue($0.value) }, "an invalid label accepted")
        }
        if let append = try? AppendBody(document, maxTTL: 2_592_000, allowEmpty: true) {
            precondition(append.messages.count <= AppendBody.maxMessagesPerAppend, "too many messages accepted")
            precondition(append.keys == nil || append.keys!.count == append.messages.count, "keys not parallel to messages")
        }
        if let lease = try? LeaseBody(document) {
            precondition(Lease.ttlRange.contains(lease.ttlMilliseconds), "lease TTL out of range accepted")
            precondition(HeaderRules.isValidIdempotencyKey(lease.holder), "invalid lease holder accepted")
        }
    }

    private static func isValid(_ document: [UInt8]) -> Bool {
        do {
            _ = try JSONScanner.topLevelMembers(of: document)
            return true
        } catch {
            return false
        }
    }
}
