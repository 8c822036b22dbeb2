import Glibc

/// A structured logger writing one line per call, as JSON or as text.
///
/// Messages should be short constants, with the data in metadata under ``LogKey`` keys
/// (swift-log style). Calls below the level return at once, without evaluating their metadata.
///
/// JSON: `{"time":"2026-11-22T10:00:00.123Z","level":"info","msg":"request","status":201}` with
/// metadata in the given order. Text: `2026-11-22T10:00:00.123Z INFO request status=201 route="a b"`.
/// Metadata keys are written as given; the caller keeps them distinct from `time`, `level` and `msg`.
public struct Logger: Sendable {
    /// Severity, from the most verbose to the most severe.
    public enum Level: String, Sendable, Comparable, CaseIterable {
        /// Diagnostics, including IDs (DESIGN §6: IDs appear in logs only at debug level).
        case debug
        /// Normal operation; request lines.
        case info
        /// Something unexpected that the process handled.
        case warning
        /// A failure that needs attention.
        case error

        private var rank: Int {
            switch self {
            case .debug: 0
            case .info: 1
            case .warning: 2
            case .error: 3
            }
        }

        /// Orders levels by severity.
        public static func < (lhs: Level, rhs: Level) -> Bool {
            lhs.rank < rhs.rank
        }
    }

    /// The line format.
    public enum Format: String, Sendable, CaseIterable {
        /// One JSON object per line.
        case json
        /// `time LEVEL msg key=value …`, for humans.
        case text
    }

    /// The least severe level written.
    public let level: Level
    /// The line format.
    public let format: Format
    /// Where lines go; nil for standard error, written as bytes (through ``LogBatch`` on a collecting thread).
    private let sink: (@Sendable (String) -> Void)?
    private let clock: @Sendable () -> Int64

    /// Creates a logger.
    ///
    /// - Parameters:
    ///   - level: The least severe level written.
    ///   - format: JSON or text lines.
    ///   - sink: Receives each complete line, including its trailing `\n`, on the logging thread.
    ///     The default (nil) writes it to standard error with one `write(2)`, or queues it in ``LogBatch``
    ///     when the logging thread collects its lines.
    public init(
        level: Level = .info, format: Format = .json,
        sink: (@Sendable (String) -> Void)? = nil
    ) {
        self.init(level: level, format: format, sink: sink, clock: RFC3339.currentMilliseconds)
    }

    /// Creates a logger with a fixed or fake clock, for tests.
    init(
        level: Level, format: Format, sink: (@Sendable (String) -> Void)?,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.level = level
        self.format = format
        self.sink = sink
        self.clock = clock
    }

    /// Whether a message at `level` would be written.
    ///
    /// - Parameter level: The level of the message.
    public func isEnabled(_ level: Level) -> Bool {
        level >= self.level
    }

    /// Writes one line if `level` is enabled.
    ///
    /// - Parameters:
    ///   - level: The severity.
    ///   - message: A short constant message.
    ///   - metadata: Key-value pairs, written in this order; evaluated only if the level is enabled.
    public func log(_ level: Level, _ message: String, _ metadata: @autoclosure () -> [(String, LogValue)] = []) {
        guard isEnabled(level) else { return }
        write(LogLine.line(format: format, time: clock(), level: level, message: message, metadata: metadata()))
    }

    /// Writes one line if `level` is enabled, its fields appended by `fields` straight into the line
    /// (no metadata array): the form for lines written on every request.
    ///
    /// - Parameters:
    ///   - level: The severity.
    ///   - message: A short constant message.
    ///   - fields: Appends the fields, in order; called only if the level is enabled.
    public func log(_ level: Level, _ message: String, fields: (inout LogFields) -> Void) {
        guard isEnabled(level) else { return }
        var line = LogFields(format: format, capacity: 512)
        line.begin(time: clock(), level: level, message: message)
        fields(&line)
        line.end()
        write(line.out)
    }

    private func write(_ line: borrowing LogBytes) {
        if let sink {
            sink(line.withBytes { String(decoding: $0, as: UTF8.self) })
        } else {
            line.withBytes { LogBatch.standardError($0) }
        }
    }

    /// Writes a `debug` line.
    ///
    /// - Parameters:
    ///   - message: A short constant message.
    ///   - metadata: Key-value pairs, written in this order; evaluated only if debug is enabled.
    public func debug(_ message: String, _ metadata: @autoclosure () -> [(String, LogValue)] = []) {
        log(.debug, message, metadata())
    }

    /// Writes an `info` line.
    ///
    /// - Parameters:
    ///   - message: A short constant message.
    ///   - metadata: Key-value pairs, written in this order; evaluated only if info is enabled.
    public func info(_ message: String, _ metadata: @autoclosure () -> [(String, LogValue)] = []) {
        log(.info, message, metadata())
    }

    /// Writes a `warning` line.
    ///
    /// - Parameters:
    ///   - message: A short constant message.
    ///   - metadata: Key-value pairs, written in this order; evaluated only if warning is enabled.
    public func warning(_ message: String, _ metadata: @autoclosure () -> [(String, LogValue)] = []) {
        log(.warning, message, metadata())
    }

    /// Writes an `error` line.
    ///
    /// - Parameters:
    ///   - message: A short constant message.
    ///   - metadata: Key-value pairs, written in this order.
    public func error(_ message: String, _ metadata: @autoclosure () -> [(String, LogValue)] = []) {
        log(.error, message, metadata())
    }

    /// Writes `line` to standard error as the default sink does: with one `write(2)` (retrying only after a
    /// partial write or `EINTR`, so lines from concurrent threads do not interleave), or queued in
    /// ``LogBatch`` when the calling thread collects its lines.
    ///
    /// - Parameter line: A complete line including its trailing `\n`.
    public static func standardError(_ line: String) {
        var line = line
        line.withUTF8 { LogBatch.standardError($0) }
    }
}
