import Foundation
import RedisClient
import Store

/// Runs `agentstate check` (`CheckRequest`): connects, runs `RedisLayoutChecker`, and prints one
/// line per violation (text or JSON) and a summary on stdout.
enum LayoutCheck {
    /// The exit code: 0 when nothing is left wrong, 1 when a violation is left (or Redis failed),
    /// 2 for an invalid URL.
    static func run(_ request: CheckRequest) async -> Int32 {
        let url: RedisURL
        do {
            url = try RedisURL(parsing: request.redisURL)
        } catch {
            FileHandle.standardError.write(Data("agentstate check: invalid value for --redis-url: \(error)\n".utf8))
            return 2
        }
        var configuration = RedisConnection.Configuration(url: url)
        if url.scheme == .rediss {
            do {
                configuration.tls = try TLSContext(configuration: TLSConfiguration(caFile: request.tlsCAFile))
            } catch {
                FileHandle.standardError.write(Data("agentstate check: invalid Redis TLS configuration: \(error.message)\n".utf8))
                return 2
            }
        }
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("agentstate check: cannot connect to Redis: \(error)\n".utf8))
            return 1
        }
        let checker = RedisLayoutChecker(
            client: connection, keyPrefix: request.keyPrefix, agentID: request.agentID, repair: request.repair,
            maxOpsPerSecond: request.maxOpsPerSecond > 0 ? request.maxOpsPerSecond : nil)
        let json = request.json
        let summary: RedisLayoutChecker.Summary
        do {
            summary = try await checker.run { violation in print(json ? Self.json(violation) : Self.text(violation)) }
        } catch {
            FileHandle.standardError.write(Data("agentstate check: stopped: \(error)\n".utf8))
            return 1
        }
        print(json ? Self.json(summary) : Self.text(summary))
        return summary.violations > summary.repaired ? 1 : 0
    }

    static func text(_ violation: RedisLayoutChecker.Violation) -> String {
        let session = violation.sessionID.map { " session=\($0)" } ?? ""
        return "\(violation.repaired ? "repaired" : "violation") agent=\(violation.agentID)\(session) invariant=\(violation.invariant): \(violation.detail)"
    }

    static func text(_ summary: RedisLayoutChecker.Summary) -> String {
        "summary: \(summary.keysScanned) keys scanned, \(summary.sessions) sessions, \(summary.indexes) indexes, "
            + "\(summary.awaitingPrune) expired entries awaiting pruning; \(summary.violations) violations, "
            + "\(summary.repaired) repaired; \(summary.operations) Redis operations in \(String(format: "%.2f", summary.seconds)) s"
    }

    static func json(_ violation: RedisLayoutChecker.Violation) -> String {
        "{\"agent\":\(quoted(violation.agentID)),\"session\":\(violation.sessionID.map(quoted) ?? "null"),"
            + "\"invariant\":\(quoted(violation.invariant)),\"detail\":\(quoted(violation.detail)),\"repaired\":\(violation.repaired)}"
    }

    static func json(_ summary: RedisLayoutChecker.Summary) -> String {
        "{\"summary\":{\"keys_scanned\":\(summary.keysScanned),\"sessions\":\(summary.sessions),\"indexes\":\(summary.indexes),"
            + "\"awaiting_prune\":\(summary.awaitingPrune),\"violations\":\(summary.violations),\"repaired\":\(summary.repaired),"
            + "\"operations\":\(summary.operations),\"seconds\":\(String(format: "%.3f", summary.seconds))}}"
    }

    /// `text` as a JSON string.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 { result += String(format: "\\u%04x", scalar.value) } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result + "\""
    }
}
