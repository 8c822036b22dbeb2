/// A set of entity tags from an `If-Match` or `If-None-Match` header, reduced to session versions.
///
/// The HTTP layer turns `"3"` into version 3. Tags that can never match (weak tags under
/// `If-Match`, tags that are not a version number) are dropped, so `.versions([])` matches nothing.
public enum ETagSet: Sendable, Hashable {
    /// `*`: matches any existing session.
    case any
    /// A list of versions: matches if the session exists and has one of them.
    case versions([Int64])

    /// Whether a session with `version` (nil when missing) is matched by this set.
    public func matches(version: Int64?) -> Bool {
        guard let version else { return false }
        switch self {
        case .any: return true
        case .versions(let list): return list.contains(version)
        }
    }
}

/// A conditional request's precondition, checked atomically with the write it guards.
public enum Precondition: Sendable, Hashable {
    /// Unconditional.
    case none
    /// `If-Match`: the session must exist and match.
    case ifMatch(ETagSet)
    /// `If-None-Match`: the session must not exist or not match (`*` means create-only).
    case ifNoneMatch(ETagSet)

    /// Whether the precondition holds for a session at `version` (nil when it is missing).
    public func isSatisfied(currentVersion: Int64?) -> Bool {
        switch self {
        case .none: return true
        case .ifMatch(let tags): return tags.matches(version: currentVersion)
        case .ifNoneMatch(let tags): return !tags.matches(version: currentVersion)
        }
    }
}

extension Precondition {
    /// Throws unless the precondition holds for a session at `currentVersion` (nil when missing).
    /// - Throws: `StoreError.preconditionFailed` carrying `currentVersion`.
    public func check(currentVersion: Int64?) throws(StoreError) {
        guard isSatisfied(currentVersion: currentVersion) else {
            throw StoreError.preconditionFailed(currentVersion: currentVersion)
        }
    }
}
