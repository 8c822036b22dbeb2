import Glibc

/// A fast formatter of RFC 3339 timestamps in UTC with milliseconds: `2026-11-22T10:00:00.123Z`.
///
/// Used for log lines and for the API's timestamps (DESIGN §3 "Times").
/// See https://www.rfc-editor.org/rfc/rfc3339#section-5.6.
public enum RFC3339 {
    /// Formats a time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    ///
    /// Correct for every instant from 0000-01-01 to 9999-12-31 (proleptic Gregorian calendar).
    /// Earlier or later instants are outside RFC 3339's four-digit years and are clamped to
    /// those bounds.
    ///
    /// - Parameter millisecondsSince1970: Milliseconds since 1970-01-01T00:00:00Z; may be negative.
    /// - Returns: The 24-character timestamp.
    public static func format(millisecondsSince1970: Int64) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            write(millisecondsSince1970: millisecondsSince1970, into: buffer)
            return length
        }
    }

    /// The length of every timestamp: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static let length = 24

    /// Writes the timestamp into the first ``length`` bytes of `buffer`.
    public static func write(millisecondsSince1970: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        let milliseconds = min(max(millisecondsSince1970, minimum), maximum)
        let (days, millisecondOfDay) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civilDate(daysSince1970: days)
        let secondOfDay = Int(millisecondOfDay / 1000)
        let millisecond = Int(millisecondOfDay % 1000)
        // Two digits per table lookup: one division per pair instead of one per digit.
        func pair(_ value: Int, at offset: Int) {
            buffer[offset] = digitPairs.utf8Start[2 * value]
            buffer[offset + 1] = digitPairs.utf8Start[2 * value + 1]
        }
        pair(year / 100, at: 0)
        pair(year % 100, at: 2)
        buffer[4] = UInt8(ascii: "-")
        pair(month, at: 5)
        buffer[7] = UInt8(ascii: "-")
        pair(day, at: 8)
        buffer[10] = UInt8(ascii: "T")
        pair(secondOfDay / 3600, at: 11)
        buffer[13] = UInt8(ascii: ":")
        pair(secondOfDay / 60 % 60, at: 14)
        buffer[16] = UInt8(ascii: ":")
        pair(secondOfDay % 60, at: 17)
        buffer[19] = UInt8(ascii: ".")
        buffer[20] = UInt8(ascii: "0") + UInt8(millisecond / 100)
        pair(millisecond % 100, at: 21)
        buffer[23] = UInt8(ascii: "Z")
    }

    /// "00" to "99", concatenated.
    private static let digitPairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// The current wall-clock time in milliseconds since 1970 (`CLOCK_REALTIME`).
    public static func currentMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// 0000-01-01T00:00:00.000Z.
    static let minimum: Int64 = -62_167_219_200_000
    /// 9999-12-31T23:59:59.999Z.
    static let maximum: Int64 = 253_402_300_799_999

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// The proleptic Gregorian date `daysSince1970` days after 1970-01-01 (negative: before it).
    ///
    /// Howard Hinnant's `civil_from_days`: https://howardhinnant.github.io/date_algorithms.html#civil_from_days.
    /// Shared with the HTTP server's `Date` header.
    public static func civilDate(daysSince1970: Int64) -> (year: Int, month: Int, day: Int) {
        let z = Int(daysSince1970) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
