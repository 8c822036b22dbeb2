#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A file holding a secret or a list of token digests (DESIGN §8 "Secrets from files", §9).
struct SecretFile: Sendable {
    /// The largest file read: secrets and token lists are small, so anything bigger is a mistake.
    static let maxBytes = 1 << 20

    /// The file's path, as configured.
    let path: String
    /// The file's content, less one trailing `\n` or `\r\n`.
    let content: String
    /// Whether users other than the owner and group may read it (worth a warning, not a refusal:
    /// Kubernetes mounts Secrets 0644 unless told otherwise).
    let isReadableByOthers: Bool

    /// Reads `path`.
    /// - Parameter flag: The option that named the file, for the error message.
    /// - Throws: `ConfigurationError` when the file cannot be read, is too large or is not UTF-8.
    init(path: String, flag: String) throws(ConfigurationError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ConfigurationError(message: "agentstate: cannot read \(flag) '\(path.prefix(256))': \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG, status.st_size <= Self.maxBytes else {
            throw ConfigurationError(message: "agentstate: \(flag) '\(path.prefix(256))' must be a regular file of at most \(Self.maxBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(message: "agentstate: cannot read \(flag) '\(path.prefix(256))'")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(message: "agentstate: \(flag) '\(path.prefix(256))' is not valid UTF-8")
        }
        if text.hasSuffix("\r\n") {
            text.removeLast(1)  // "\r\n" is one Character
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        self.path = path
        self.content = text
        self.isReadableByOthers = status.st_mode & S_IROTH != 0
    }
}
