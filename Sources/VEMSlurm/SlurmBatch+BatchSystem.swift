import VEMBatch

extension BatchError.Code {
    /// The batch system did not answer in time, is unreachable, or could not be asked (Slurm driver).
    public static let batchUnavailable = BatchError.Code(rawValue: "batch_unavailable")
    /// The batch system answered with output that could not be read (Slurm driver).
    public static let malformedOutput = BatchError.Code(rawValue: "malformed_output")
    /// A batch system command failed for another reason (Slurm driver).
    public static let commandFailed = BatchError.Code(rawValue: "command_failed")
}

extension SlurmBatch {
    /// The demand and nodes of every mapped group (see ``SlurmGroups/snapshot(of:)``).
    /// - Throws: `BatchError` (`batch_unavailable` when slurmctld does not answer in time, `malformed_output`).
    public func snapshot() async throws -> BatchSnapshot {
        try await bridge { groups.snapshot(of: try await readState()) }
    }

    /// Creates the node with the address ``addressOf`` finds, or adopts the group's node of that name (see
    /// ``registerNode(_:address:hostname:)``).
    /// - Throws: `BatchError` (`duplicate_node` for a node of that name that is not the group's,
    ///   `invalid_argument`, `invalid_mapping`, `batch_unavailable`).
    public func register(_ registration: NodeRegistration) async throws {
        try await bridge {
            let address: String
            do {
                address = try await addressOf(registration)
            } catch let error as SlurmError {
                throw error
            } catch {
                throw SlurmError(.invalidArgument, "no address for node '\(registration.name)'", cause: "\(error)")
            }
            try await registerNode(registration, address: address)
        }
    }

    /// Drains a node (see ``drainNode(_:reason:)``).
    /// - Throws: `BatchError` (`unknown_node`, `invalid_argument`, `batch_unavailable`).
    public func drain(node: String, reason: String) async throws {
        try await bridge { try await drainNode(node, reason: reason) }
    }

    /// Resumes a node (see ``resumeNode(_:)``). Slurm also resumes a `down` node (VEM's replay batch refuses).
    /// - Throws: `BatchError` (`unknown_node`, `invalid_node_state`, `batch_unavailable`).
    public func resume(node: String) async throws {
        try await bridge { try await resumeNode(node) }
    }

    /// Deletes a node (see ``deleteNode(_:)``).
    /// - Throws: `BatchError` (`unknown_node`, `invalid_node_state` while it runs jobs, `batch_unavailable`).
    public func remove(node: String) async throws {
        try await bridge { try await deleteNode(node) }
    }

    /// Runs `body`, turning a ``SlurmError`` into the matching `BatchError` (the Slurm error is its cause).
    func bridge<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SlurmError {
            throw Self.batchError(error)
        }
    }

    /// The `BatchError` a ``SlurmError`` stands for.
    public static func batchError(_ error: SlurmError) -> BatchError {
        let code: BatchError.Code
        switch error.code {
        case .unknownNode: code = .unknownNode
        case .duplicateNode: code = .duplicateNode
        case .invalidNodeState: code = .invalidNodeState
        case .invalidArgument: code = .invalidArgument
        case .invalidMapping: code = .invalidMapping
        case .malformedOutput: code = .malformedOutput
        case .timeout, .slurmReported, .spawnFailed: code = .batchUnavailable
        default: code = .commandFailed
        }
        return BatchError(code, error.message, cause: error)
    }
}
