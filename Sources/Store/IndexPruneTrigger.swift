/// What removed stale entries from an agent's index: the `trigger` label of
/// `agentstate_index_pruned_total`.
public enum IndexPruneTrigger: String, Sendable, CaseIterable {
    /// A list passed them.
    case list
    /// A mutation of one of the agent's sessions pruned them (a bounded number per write).
    case write
}
