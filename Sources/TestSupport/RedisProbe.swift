#if canImport(Glibc)
import Glibc
#endif

/// One blocking command to a plaintext Redis or Sentinel on 127.0.0.1, for harnesses that wait on a
/// server's state (`PING`, `INFO replication`, `SENTINEL master`) without depending on `RedisClient`.
enum RedisProbe {
    /// Sends `arguments` as a RESP array and returns the reply's raw bytes as text (a simple string, an
    /// error, a bulk string or an array, read until complete), or nil when nothing answers within `timeout`.
    static func reply(port: Int, _ arguments: [String], timeoutMilliseconds: Int = 200) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        var request = "*\(arguments.count)\r\n"
        for argument in arguments { request += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return nil }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while !isComplete(received) {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return received.isEmpty ? nil : String(decoding: received, as: UTF8.self) }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether `bytes` holds a whole reply: one line for `+`, `-`, `:`; the announced length for `$`;
    /// every announced element, recursively, for `*`.
    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        var index = 0
        return element(bytes, &index)
    }

    private static func element(_ bytes: [UInt8], _ index: inout Int) -> Bool {
        guard index < bytes.count, let lineEnd = lineEnd(bytes, from: index) else { return false }
        let kind = bytes[index]
        let number = Int(String(decoding: bytes[(index + 1)..<lineEnd], as: UTF8.self)) ?? 0
        index = lineEnd + 2
        switch kind {
        case UInt8(ascii: "$"):
            guard number >= 0 else { return true }
            guard bytes.count >= index + number + 2 else { return false }
            index += number + 2
            return true
        case UInt8(ascii: "*"):
            for _ in 0..<max(number, 0) where !element(bytes, &index) { return false }
            return true
        default:
            return true
        }
    }

    private static func lineEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\r") && bytes[index + 1] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }
}
