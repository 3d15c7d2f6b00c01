/// Makes a suite's network namespaces (of its ``NetworkNamespaceScheme``) and deletes them all at the end.
///
/// Every namespace of the test process is made one at a time, whichever allocator asks (each picks a subnet no
/// interface uses yet, so two made at once could pick the same one), and is numbered process-wide (so two
/// allocators of one scheme never make the same name).
public actor NetworkAllocator {
    /// The suite's scheme.
    public nonisolated let scheme: NetworkNamespaceScheme
    private var made: [NetworkNamespace] = []

    /// An allocator that has made nothing yet.
    public init(_ scheme: NetworkNamespaceScheme) {
        self.scheme = scheme
    }

    /// A new namespace.
    public func make() async throws -> NetworkNamespace {
        let ns = try await NamespaceQueue.shared.create(scheme)
        made.append(ns)
        return ns
    }

    /// Deletes one namespace.
    public func remove(_ ns: NetworkNamespace) async {
        made.removeAll { $0.name == ns.name }
        await ns.remove()
    }

    /// Deletes every namespace it made that is still there.
    public func removeAll() async {
        let all = made
        made = []
        for ns in all { await ns.remove() }
    }

    /// Deletes the namespaces of this scheme that dead test processes left (see
    /// ``NetworkNamespaceScheme/sweepStale()``).
    public nonisolated func sweepStale() async {
        await scheme.sweepStale()
    }
}

/// The process-wide queue of namespace creations.
private actor NamespaceQueue {
    static let shared = NamespaceQueue()
    private var count = 0
    private var tail: Task<Void, Never>?

    /// Creates a namespace after every earlier request has made its own (the actor alone would interleave them
    /// at their suspension points).
    func create(_ scheme: NetworkNamespaceScheme) async throws -> NetworkNamespace {
        count += 1
        let tag = count
        let previous = tail
        let task = Task { () async throws -> NetworkNamespace in
            await previous?.value
            return try await NetworkNamespace.create(scheme, tag: tag)
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }
}
