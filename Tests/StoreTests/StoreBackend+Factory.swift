import Store
import Testing

/// The backends `StateStoreContractTests` runs against, every test once per case.
///
/// A new backend joins the suite with one case here and one branch in `makeStore`; nothing else
/// in the suite knows which backend it is talking to.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `InMemoryStateStore`.
    case memory

    /// The backend's name in test output, e.g. `versionStartsAtOneAndGrowsByOne(memory)`.
    var testDescription: String { rawValue }
}

/// Makes a fresh store of `backend` with `configuration`.
///
/// Tests isolate themselves by agent ID (`Fixtures.agentID()`), so a backend may hand out stores
/// that share data (one Redis server, one key prefix) as long as each honours `configuration`.
/// - Throws: whatever setting up the backend throws; a missing backend must fail, never skip.
func makeStore(_ backend: StoreBackend, configuration: StoreConfiguration = .init()) async throws -> any StateStore {
    switch backend {
    case .memory:
        return InMemoryStateStore(configuration: configuration)
    }
}
