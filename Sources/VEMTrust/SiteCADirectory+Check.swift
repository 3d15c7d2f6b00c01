extension SiteCADirectory {
    /// What is wrong with a certificate request as `vem ca issue` takes it, or nil: `role` not a ``TrustRole``, a
    /// domU without its group, or `days` below 1.
    public static func issueProblem(role: String, group: String?, days: Int) -> String? {
        guard let role = TrustRole(rawValue: role) else {
            return "--role must be one of dom0, domU, batch, manager, operator"
        }
        if role == .domU, group == nil { return "a domU certificate needs --group" }
        if days < 1 { return "--days must be at least 1" }
        return nil
    }
}
