import Foundation

extension Evaluation {
    /// `vem eval`'s evaluation of `expression` over the snapshot in the JSON file at `snapshotPath` (nil: an empty
    /// snapshot); a file that cannot be read or decoded makes it the failure `PATH: ERROR`.
    public init(expression: String, snapshotPath: String?, budget: Int?, json: Bool) {
        do {
            let snapshot = try snapshotPath.map { try Snapshot(json: try Data(contentsOf: URL(fileURLWithPath: $0))) }
            self.init(expression: expression, snapshot: snapshot ?? Snapshot(), budget: budget, json: json)
        } catch {
            self = .failure("\(snapshotPath ?? ""): \(error)", json: json)
        }
    }
}
