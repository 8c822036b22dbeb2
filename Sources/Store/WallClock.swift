#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock the stores stamp sessions with: `created_at`, `updated_at` and `expires_at`.
public enum WallClock {
    /// Milliseconds since the Unix epoch (UTC), read from `CLOCK_REALTIME`.
    public static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
