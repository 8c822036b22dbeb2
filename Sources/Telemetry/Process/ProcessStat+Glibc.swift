import Glibc

/// Readers of Linux `/proc` for ``ProcessMetrics`` (and ``readFile(_:)`` for other procfs and sysfs files).
///
/// See proc(5): https://man7.org/linux/man-pages/man5/proc.5.html.
public enum ProcessStat {
    /// CPU time and RSS from `/proc/self/stat`.
    struct Stat {
        var cpuSeconds: Double
        var residentMemoryBytes: Double
        /// Clock ticks after boot at which the process started.
        var startTicks: Double
    }

    static let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    /// Parses `/proc/self/stat`.
    static func read() -> Stat? {
        guard let text = readFile("/proc/self/stat") else { return nil }
        return parseStat(text)
    }

    /// Parses the text of a `/proc/<pid>/stat` file.
    ///
    /// The command name (field 2) is in parentheses and may contain spaces and `)`, so the fields
    /// are counted from after the last `)`: field 3 (state) is index 0 there.
    static func parseStat(_ text: String) -> Stat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // utime = field 14, stime = 15, starttime = 22, rss = 24 (1-based, per proc(5)).
        func field(_ number: Int) -> Double? {
            let index = number - 3
            guard index < fields.count else { return nil }
            return Double(fields[index].trimmingSuffixNewline)
        }
        guard let utime = field(14), let stime = field(15), let start = field(22), let rss = field(24) else {
            return nil
        }
        return Stat(
            cpuSeconds: (utime + stime) / clockTicksPerSecond,
            residentMemoryBytes: rss * pageSize,
            startTicks: start)
    }

    /// The process start time in seconds since 1970: `btime` from `/proc/stat` plus
    /// `starttime / CLK_TCK`.
    static func startTimeSeconds() -> Double? {
        guard let stat = read(), let text = readFile("/proc/stat") else { return nil }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let bootTime = Double(line.dropFirst("btime ".count))
        else { return nil }
        return bootTime + stat.startTicks / clockTicksPerSecond
    }

    /// The number of entries in `/proc/self/fd`, counting the descriptor used to list it.
    static func openFileDescriptors() -> Double? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDot { count += 1 }
        }
        return Double(count)
    }

    /// The soft `RLIMIT_NOFILE`.
    static func maxFileDescriptors() -> Double? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Double(limit.rlim_cur)
    }

    /// The whole content of a (procfs or sysfs) file, read until EOF; such files report size 0.
    public static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                break
            } else if errno != EINTR {
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate var trimmingSuffixNewline: Substring {
        last == "\n" ? dropLast() : self
    }
}
