import CLibvirt
import Foundation

/// Where one event registration delivers its events.
final class EventSink: Sendable {
    let continuation: AsyncStream<DomainEvent>.Continuation

    init(_ continuation: AsyncStream<DomainEvent>.Continuation) { self.continuation = continuation }

    func yield(_ event: DomainEvent) { continuation.yield(event) }
    func finish() { continuation.finish() }
}

/// libvirt's lifecycle callback (a C function pointer: it captures nothing; the sink comes in `opaque`).
private let lifecycleCallback: virConnectDomainEventCallback = { _, dom, event, detail, opaque in
    guard let dom, let opaque else { return 0 }
    let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
    let name = virDomainGetName(dom).map { String(cString: $0) } ?? ""
    let uuid = uuidString { virDomainGetUUIDString(dom, $0) }
    sink.yield(DomainEvent(domain: name, uuid: uuid, kind: DomainEvent.Kind(libvirtEvent: event), detail: detail))
    return 0
}

/// Releases the sink when libvirt drops the registration.
private let releaseSink: virFreeCallback = { opaque in
    guard let opaque else { return }
    Unmanaged<EventSink>.fromOpaque(opaque).release()
}

extension LibvirtConnection {
    /// The lifecycle events of all domains on this connection, from now on, as a stream.
    ///
    /// Events come from libvirt's event loop thread. The stream ends when the connection is closed;
    /// cancelling its consumer deregisters the callback.
    /// - Throws: ``LibvirtError`` when libvirt refuses the registration.
    public func lifecycleEvents() async throws -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DomainEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let sink = EventSink(continuation)
        let id: Int32 = try await call("register for lifecycle events") { conn in
            let opaque = Unmanaged.passRetained(sink).toOpaque()
            let id = virConnectDomainEventRegisterAny(
                conn, nil, Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue),
                unsafeBitCast(lifecycleCallback, to: virConnectDomainEventGenericCallback.self), opaque, releaseSink)
            guard id >= 0 else {
                // Whether libvirt calls the free callback on a failed registration differs between its
                // drivers; leaking one small sink is safer than releasing it twice.
                throw lastLibvirtError("register for lifecycle events")
            }
            self.state.withLock { $0.eventCallbacks[id] = sink }
            return id
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            // On the queue, so that it is ordered with close(): after a close the handle is gone.
            self.queue.async {
                let handle = self.state.withLock { s -> CPointer? in
                    s.eventCallbacks.removeValue(forKey: id) != nil ? s.handle : nil
                }
                if let handle { _ = virConnectDomainEventDeregisterAny(handle.raw, id) }
            }
        }
        return stream
    }
}
