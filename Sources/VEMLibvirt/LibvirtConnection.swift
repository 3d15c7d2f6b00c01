import CLibvirt
import Dispatch
import Foundation
import Synchronization

/// A connection to one hypervisor through libvirt: `test:///…`, `qemu:///embed?root=…`, `qemu:///system`,
/// `qemu+ssh://host/system`, `xen:///system`.
///
/// libvirt calls block (a migration for seconds), so every call runs on this connection's own serial
/// dispatch queue, never on Swift's cooperative pool; the API is `async`. libvirt objects (domains, arrays)
/// are freed before each call returns. ``close()`` ends the connection and finishes its event streams.
public final class LibvirtConnection: Sendable {
    /// The URI the connection was opened with.
    public let uri: String
    let queue: DispatchQueue
    let state: Mutex<State>
    /// The lifecycle event streams (one libvirt registration for all of them).
    let events = EventSink()

    struct State {
        var handle: CPointer?
        /// libvirt's id of the lifecycle registration, while one or more streams are open.
        var eventRegistration: Int32?
    }

    private init(uri: String, handle: CPointer, queue: DispatchQueue) {
        self.uri = uri
        self.queue = queue
        self.state = Mutex(State(handle: handle))
    }

    deinit {
        let handle = state.withLock { s -> CPointer? in
            let h = s.handle
            s.handle = nil
            return h
        }
        if let handle { queue.async { LibvirtRuntime.close(handle.raw) } }
    }

    /// Opens a connection.
    /// - Parameter uri: The hypervisor's URI.
    /// - Throws: ``LibvirtError`` `.connectionFailed` with libvirt's message when nothing answers or the
    ///   URI is wrong.
    public static func open(_ uri: String) async throws -> LibvirtConnection {
        LibvirtRuntime.ensureStarted()
        let queue = DispatchQueue(label: "vem.libvirt.\(uri)")
        let handle: CPointer = try await run(on: queue) {
            guard let raw = LibvirtRuntime.open(uri) else {
                throw lastLibvirtError("connect to '\(uri)'", default: .connectionFailed).with(code: .connectionFailed)
            }
            return CPointer(raw: raw)
        }
        return LibvirtConnection(uri: uri, handle: handle, queue: queue)
    }

    /// The libvirt library's version (`9.0.0`).
    public static var libraryVersion: String { LibvirtRuntime.version }

    /// Closes the connection and finishes its event streams. Later calls fail with `.connectionClosed`.
    public func close() async {
        // The handle is cleared on the queue, in the same job that closes it, so that no later job (an event
        // stream's deregistration, say) can use the freed connection.
        _ = try? await call("close") { conn in
            let id = self.state.withLock { s -> Int32? in
                let id = s.eventRegistration
                s.handle = nil
                s.eventRegistration = nil
                return id
            }
            if let id { _ = virConnectDomainEventDeregisterAny(conn, id) }
            LibvirtRuntime.close(conn)
        }
        events.finish()
    }

    /// True while the connection is open and libvirt considers it alive.
    public func isAlive() async -> Bool {
        (try? await call("check the connection") { virConnectIsAlive($0) == 1 }) ?? false
    }

    /// Runs `body` with the raw connection on this connection's queue.
    func call<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        try await Self.run(on: queue) {
            guard let handle = self.state.withLock({ $0.handle }) else {
                throw LibvirtError(.connectionClosed, "the connection to '\(self.uri)' is closed", operation: operation)
            }
            return try body(handle.raw)
        }
    }

    static func run<T: Sendable>(
        on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                vem_silence_libxml2()  // this thread may not have called libvirt before
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    // MARK: - Host

    /// The host's hardware and free memory.
    public func nodeInfo() async throws -> NodeInfo {
        try await call("read node information") { conn in
            var info = virNodeInfo()
            guard virNodeGetInfo(conn, &info) == 0 else { throw lastLibvirtError("read node information") }
            let model = withUnsafeBytes(of: info.model) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let free = virNodeGetFreeMemory(conn)
            if free == 0 { virResetLastError() }
            return NodeInfo(
                model: model, cpus: Int(info.cpus), mhz: Int(info.mhz), memoryKiB: UInt64(info.memory),
                freeMemoryKiB: free / 1024)
        }
    }

    /// The host's name as the hypervisor reports it.
    public func hostname() async throws -> String {
        try await call("read the host name") { conn in
            guard let p = virConnectGetHostname(conn) else { throw lastLibvirtError("read the host name") }
            defer { free(p) }
            return String(cString: p)
        }
    }

    // MARK: - Domains

    /// All domains, running and defined, with VEM's metadata where present.
    public func domains() async throws -> [DomainInfo] {
        try await call("list domains") { conn in
            var list: UnsafeMutablePointer<virDomainPtr?>?
            let n = virConnectListAllDomains(conn, &list, 0)
            guard n >= 0 else { throw lastLibvirtError("list domains") }
            defer {
                if let list {
                    for i in 0..<Int(n) { if let d = list[i] { virDomainFree(d) } }
                    free(list)
                }
            }
            var result: [DomainInfo] = []
            for i in 0..<Int(n) {
                guard let d = list?[i] else { continue }
                // A domain that vanished between the listing and this read is skipped.
                if let info = try? Self.describe(d) { result.append(info) }
            }
            return result.sorted { $0.name < $1.name }
        }
    }

    /// The domain of that name, or nil when there is none.
    public func domain(named name: String) async throws -> DomainInfo? {
        try await call("look up domain '\(name)'") { conn in
            guard let d = virDomainLookupByName(conn, name) else {
                if lastLibvirtErrorNumber() == LibvirtErrorNumber.noDomain {
                    virResetLastError()
                    return nil
                }
                throw lastLibvirtError("look up domain '\(name)'")
            }
            defer { virDomainFree(d) }
            return try Self.describe(d)
        }
    }

    /// Looks `name` up and runs `body` with the domain, freeing it afterwards.
    static func withDomain<T>(_ conn: OpaquePointer, _ name: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        guard let d = virDomainLookupByName(conn, name) else {
            throw lastLibvirtError("look up domain '\(name)'")
        }
        defer { virDomainFree(d) }
        return try body(d)
    }

    /// Reads a domain's name, UUID, state, size and VEM metadata.
    static func describe(_ d: OpaquePointer) throws -> DomainInfo {
        let name = virDomainGetName(d).map { String(cString: $0) } ?? ""
        var info = virDomainInfo()
        guard virDomainGetInfo(d, &info) == 0 else { throw lastLibvirtError("read domain '\(name)'") }
        let uuid = uuidString { virDomainGetUUIDString(d, $0) }
        let id = virDomainGetID(d)
        let persistent = virDomainIsPersistent(d) == 1
        return DomainInfo(
            name: name, uuid: uuid, id: id == UInt32.max ? nil : id,
            state: DomainState(libvirtState: Int32(info.state)), memoryKiB: UInt64(info.memory),
            vcpus: Int(info.nrVirtCpu), persistent: persistent, instance: try readInstance(d, name: name))
    }

    /// VEM's metadata of a domain, or nil when it has none.
    static func readInstance(_ d: OpaquePointer, name: String) throws -> VEMInstance? {
        let type = Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue)
        guard let p = virDomainGetMetadata(d, type, VEMInstance.namespace, 0) else {
            if lastLibvirtErrorNumber() == LibvirtErrorNumber.noDomainMetadata {
                virResetLastError()
                return nil
            }
            throw lastLibvirtError("read the metadata of domain '\(name)'")
        }
        defer { free(p) }
        return try VEMInstance.parse(String(cString: p))
    }
}

extension LibvirtError {
    func with(code: Code) -> LibvirtError {
        var copy = self
        copy.code = code
        return copy
    }
}
