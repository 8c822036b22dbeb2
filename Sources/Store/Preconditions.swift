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

/// A conditional request's precondition, checked atomically with the write it guards: its entity
/// tags (`If-Match`/`If-None-Match`), then its `Fencing-Token` (DESIGN §11).
public struct Precondition: Sendable, Hashable {
    /// The entity-tag part of a precondition.
    public enum EntityTags: Sendable, Hashable {
        /// Unconditional.
        case none
        /// `If-Match`: the session must exist and match.
        case ifMatch(ETagSet)
        /// `If-None-Match`: the session must not exist or not match (`*` means create-only).
        case ifNoneMatch(ETagSet)
    }

    /// Checked first.
    public var entityTags: EntityTags
    /// `Fencing-Token`: when set, the write is refused if it is lower than the session's current
    /// fencing token (`StoreError.staleFencingToken`). A missing session has token 0.
    public var fencingToken: Int64?

    /// A precondition from its parts.
    public init(_ entityTags: EntityTags = .none, fencingToken: Int64? = nil) {
        self.entityTags = entityTags
        self.fencingToken = fencingToken
    }

    /// Unconditional.
    public static let none = Precondition()
    /// `If-Match`: the session must exist and match.
    public static func ifMatch(_ tags: ETagSet) -> Precondition { Precondition(.ifMatch(tags)) }
    /// `If-None-Match`: the session must not exist or not match (`*` means create-only).
    public static func ifNoneMatch(_ tags: ETagSet) -> Precondition { Precondition(.ifNoneMatch(tags)) }

    /// This precondition with a `Fencing-Token` (nil: none).
    public func fenced(by token: Int64?) -> Precondition {
        Precondition(entityTags, fencingToken: token)
    }

    /// Whether the entity tags hold for a session at `version` (nil when it is missing).
    public func isSatisfied(currentVersion: Int64?) -> Bool {
        switch entityTags {
        case .none: return true
        case .ifMatch(let tags): return tags.matches(version: currentVersion)
        case .ifNoneMatch(let tags): return !tags.matches(version: currentVersion)
        }
    }

    /// Throws unless the precondition holds for a session at `currentVersion` (nil when missing)
    /// whose fencing token is `currentFencingToken` (0 when it never had a lease).
    /// - Throws: `StoreError.preconditionFailed` carrying `currentVersion`, then
    ///   `StoreError.staleFencingToken`.
    public func check(currentVersion: Int64?, currentFencingToken: Int64 = 0) throws(StoreError) {
        guard isSatisfied(currentVersion: currentVersion) else {
            throw StoreError.preconditionFailed(currentVersion: currentVersion)
        }
        if let fencingToken, fencingToken < currentFencingToken {
            throw StoreError.staleFencingToken(current: currentFencingToken)
        }
    }
}
