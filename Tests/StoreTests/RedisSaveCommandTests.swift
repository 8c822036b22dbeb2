import Foundation
import RedisClient
@testable import Store
import Testing
import TestSupport

/// The save command written in place carries exactly the arguments the async path sends, which are the
/// precondition's and options' encodings the other scripts take, then state, session ID and limit: for every
/// kind of precondition, TTL change, sliding flag and label set, with and without a default TTL; and those
/// encodings are the bytes the scripts parse.
@Suite(.offCooperativePool) struct RedisSaveCommandTests {
    @Test(arguments: [Int64?.none, 3600])
    func saveCommandMatchesTheArgumentList(defaultTTL: Int64?) async throws {
        var configuration = StoreConfiguration()
        configuration.defaultTTLSeconds = defaultTTL
        configuration.maxSessionBytes = 123_456
        let store = try await makeRedisStore(configuration: configuration)
        let key = SessionKey(agentID: "agent-1", sessionID: "s.2~x")
        let state = Array(#"{"k":[1,2,3]}"#.utf8)
        let preconditions: [Precondition] = [
            .none, .ifMatch(.versions([7])), .ifMatch(.versions([1, 22, 333])), .ifNoneMatch(.any),
            Precondition(.none, fencingToken: 0), Precondition(.ifMatch(.any), fencingToken: 9_223_372_036_854_775_807),
        ]
        let ttls: [TTLChange] = [.keep, .persist, .seconds(1), .seconds(86_400)]
        let labelSets: [SessionLabels?] = [nil, [:], ["team": "ops", "user": "u:1"]]
        var checked = 0
        for precondition in preconditions {
            for ttl in ttls {
                for sliding in [Bool?.none, true, false] {
                    for labels in labelSets {
                        let options = WriteOptions(ttl: ttl, slidingTTL: sliding, precondition: precondition, labels: labels)
                        let arguments = store.saveArguments(key, state: state, options: options)
                        let shared = RedisStateStore.arguments(precondition) + store.arguments(options)
                            + [state, Array(key.sessionID.utf8), Array("123456".utf8)]
                        #expect(arguments == shared, "\(options)")
                        let sha = Array("0123456789abcdef0123456789abcdef01234567".utf8)
                        let keys = store.sessionKeys(key, setting: options)
                        let command = store.saveCommand(key, state: state, options: options, sha: sha)
                        #expect(command.arguments == [Array("EVALSHA".utf8), sha, Array(String(keys.count).utf8)] + keys + arguments, "\(options)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == preconditions.count * ttls.count * 3 * labelSets.count)

        // The bytes themselves, as the save script reads its ARGV.
        let text = { (arguments: [[UInt8]]) in arguments.map { String(decoding: $0, as: UTF8.self) } }
        let plain = store.saveArguments(key, state: state, options: .init())
        #expect(text(plain) == ["n", "", "k", "", "", defaultTTL.map(String.init) ?? "", "", #"{"k":[1,2,3]}"#, "s.2~x", "123456"])
        let full = store.saveArguments(key, state: state, options: WriteOptions(
            ttl: .seconds(86_400), slidingTTL: true, precondition: Precondition(.ifMatch(.versions([1, 22])), fencingToken: 9),
            labels: ["team": "ops"]))
        #expect(Array(text(full).prefix(7)) == ["m9", "1,22", "s", "86400", "1", defaultTTL.map(String.init) ?? "", "=team=3:ops"])
        let create = store.saveArguments(key, state: state, options: .init(ttl: .persist, slidingTTL: false, precondition: .ifNoneMatch(.any)))
        #expect(Array(text(create).prefix(5)) == ["x", "*", "p", "", "0"])
    }
}
