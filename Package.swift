// swift-tools-version:6.0
import PackageDescription

/// Every Swift target: Swift 6 language mode and `any` spelled out for existentials.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The request path's targets also skip the run-time exclusivity checks in release builds: they cost about
/// 3,700 instructions per request (7 %, `bench/instructions`; every access to a class's stored `var` went
/// through the runtime's access set). Debug builds, which every test runs, keep the checks, so an
/// overlapping access on any tested path still traps there. (SwiftPM allows `unsafeFlags` in a root package.)
let hotPathSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "agentstate",
    products: [
        .executable(name: "agentstate", targets: ["agentstate"]),
    ],
    targets: [
        // Header-only C shim exposing <sys/epoll.h> and <sys/eventfd.h>, which Glibc does not.
        .target(name: "CEpoll"),
        // The system OpenSSL (libssl) for TLS to Redis, plus inline wrappers for macros Swift cannot import.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Metrics registry, Prometheus exposition, structured logger. Depends on nothing.
        .target(name: "Telemetry", swiftSettings: hotPathSettings),
        // HTTP/1.1 server on POSIX sockets and epoll. Knows nothing about agents.
        .target(name: "HTTPServer", dependencies: ["CEpoll", "Telemetry"], swiftSettings: hotPathSettings),
        // RESP2 client: parser, connections, pool. Knows nothing about HTTP.
        .target(name: "RedisClient", dependencies: ["CEpoll", "COpenSSL"], swiftSettings: hotPathSettings),
        // Domain types, the StateStore protocol and both backends.
        .target(name: "Store", dependencies: ["RedisClient"], swiftSettings: hotPathSettings),
        // Configuration, routes, handlers and wiring.
        .target(
            name: "App",
            dependencies: ["HTTPServer", "Store", "RedisClient", "Telemetry"],
            swiftSettings: hotPathSettings
        ),
        .executableTarget(name: "agentstate", dependencies: ["App"], swiftSettings: swiftSettings),
        // Shared by the test targets only: starts redis-server, finds free ports, speaks raw HTTP.
        .target(name: "TestSupport", swiftSettings: swiftSettings),

        // libFuzzer targets: each main.swift holds only `LLVMFuzzerTestOneInput`. A plain build links them as
        // executables that do nothing; scripts/fuzz builds them with --sanitize=fuzzer and runs them.
        .executableTarget(name: "FuzzHTTPParser", dependencies: ["HTTPServer"], path: "Fuzz/FuzzHTTPParser", swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzJSONScanner", dependencies: ["App"], path: "Fuzz/FuzzJSONScanner", swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzRESPParser", dependencies: ["RedisClient"], path: "Fuzz/FuzzRESPParser", swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzRedisURL", dependencies: ["RedisClient"], path: "Fuzz/FuzzRedisURL", swiftSettings: swiftSettings),

        .testTarget(name: "HTTPServerTests", dependencies: ["TestSupport", "HTTPServer", "CEpoll"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisClientTests", dependencies: ["TestSupport", "RedisClient"], swiftSettings: swiftSettings),
        .testTarget(name: "StoreTests", dependencies: ["TestSupport", "Store", "RedisClient"], swiftSettings: swiftSettings),
        .testTarget(name: "TelemetryTests", dependencies: ["TestSupport", "Telemetry"], swiftSettings: swiftSettings),
        .testTarget(name: "AppTests", dependencies: ["TestSupport", "App", "Store", "HTTPServer", "RedisClient", "Telemetry"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
