/// Where new VMs go: the one placement type of the configuration (`[manager] placement`) and the planner.
public enum Placement: String, Sendable, Hashable, Codable, CaseIterable {
    /// Fill the fullest host that fits (fewest free vCPUs, then least free memory): keeps whole hosts free.
    case pack
    /// Use the emptiest host (most free vCPUs, then most free memory): spreads load and failure risk.
    case spread
}
