/// An advisory lock on a session, with its fencing token (DESIGN §11). Times are milliseconds
/// since the Unix epoch.
public struct Lease: Sendable, Hashable {
    /// Who holds it: 1–128 visible ASCII characters, validated by the HTTP layer.
    public var holder: String
    /// The session's fencing token when this holder acquired the lease.
    public var fencingToken: Int64
    /// When this holder acquired it (a renewal keeps it).
    public var acquiredAt: Int64
    /// When it lapses, unless renewed.
    public var expiresAt: Int64

    /// Creates a lease from its fields.
    public init(holder: String, fencingToken: Int64, acquiredAt: Int64, expiresAt: Int64) {
        self.holder = holder
        self.fencingToken = fencingToken
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
    }

    /// Lease TTLs a client may ask for, in milliseconds.
    public static let ttlRange: ClosedRange<Int64> = 100...600_000
}

/// The result of `StateStore.acquireLease`.
public struct LeaseResult: Sendable, Equatable {
    /// The lease after the call.
    public var lease: Lease
    /// True when the call acquired the lease (HTTP 201, a new fencing token), false when the same
    /// holder renewed its live lease (200, the same token).
    public var acquired: Bool

    /// Creates a lease result.
    public init(lease: Lease, acquired: Bool) {
        self.lease = lease
        self.acquired = acquired
    }
}
