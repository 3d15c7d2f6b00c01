import Foundation

extension OperatorClient {
    /// The path of `vem props`' rows: of one Client (checked to be one the Manager knows), or of all (nil).
    /// - Throws: ``OperatorClientError/unknownName(_:kind:url:known:)`` for a Client the Manager does not know.
    public func propsPath(client: String?) async throws(OperatorClientError) -> String {
        guard let client else { return "/v1/props" }
        try await require(client, among: ["clients"], kind: "Client")
        return "/v1/props?client=" + (client.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? client)
    }

    /// The path of `vem explain`'s report: about one VM or group, or the latest decisions (nil). A name with no
    /// decisions must at least be a VM, a group or a Client the Manager knows.
    /// - Throws: ``OperatorClientError/unknownName(_:kind:url:known:)`` for a name with no decisions that the
    ///   Manager does not know.
    public func explainPath(name: String?) async throws(OperatorClientError) -> String {
        guard let name else { return "/v1/explain" }
        let path = "/v1/explain?name=" + (name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name)
        let data = try await get(path)
        let report = try? JSONDecoder().decode(ExplainReport.self, from: data)
        if report?.decisions.isEmpty ?? true {
            try await require(name, among: ["vms", "groups", "clients"], kind: "VM or group")
        }
        return path
    }
}
