/// One agentstate process shared by the end-to-end tests that need no special configuration.
/// Each test uses its own agent ID (`uniqueAgent()`), so they never see each other's data.
let sharedService = Task<AgentStateProcess, any Error> { try await AgentStateProcess(["--log-level", "warning"]) }

/// The shared process.
func service() async throws -> AgentStateProcess {
    try await sharedService.value
}
