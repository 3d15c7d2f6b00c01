import CLibvirt
import Foundation
import Synchronization

/// Where the connection's one lifecycle registration delivers its events: every subscriber's stream.
///
/// libvirt refuses a second registration of the same callback for the same event on one connection ("event
/// callback already tracked"), so a connection registers once and fans the events out to every
/// ``LibvirtConnection/lifecycleEvents()`` stream (an agent forwarding events to the Manager and a watcher in
/// the same process, say).
final class EventSink: Sendable {
    private struct Subscribers {
        var next: UInt64 = 0
        var streams: [UInt64: AsyncStream<DomainEvent>.Continuation] = [:]
    }

    private let subscribers = Mutex(Subscribers())

    /// Adds a stream; returns its key.
    func add(_ continuation: AsyncStream<DomainEvent>.Continuation) -> UInt64 {
        subscribers.withLock { s in
            s.next += 1
            s.streams[s.next] = continuation
            return s.next
        }
    }

    /// Removes a stream.
    func remove(_ key: UInt64) { subscribers.withLock { _ = $0.streams.removeValue(forKey: key) } }

    /// True when no stream is left.
    var isEmpty: Bool { subscribers.withLock { $0.streams.isEmpty } }

    func yield(_ event: DomainEvent) {
        for c in subscribers.withLock({ Array($0.streams.values) }) { c.yield(event) }
    }

    /// Ends every stream.
    func finish() {
        for c in subscribers.withLock({ s in
            let all = Array(s.streams.values)
            s.streams = [:]
            return all
        }) { c.finish() }
    }
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

/// Releases the sink's reference when libvirt drops the registration.
private let releaseSink: virFreeCallback = { opaque in
    guard let opaque else { return }
    Unmanaged<EventSink>.fromOpaque(opaque).release()
}

extension LibvirtConnection {
    /// The lifecycle events of all domains on this connection, from now on, as a stream. Several streams may be
    /// open at once; each gets every event.
    ///
    /// Events come from libvirt's event loop thread. The stream ends when the connection is closed;
    /// cancelling its consumer removes it (and the last one deregisters the connection's callback).
    /// - Throws: ``LibvirtError`` when libvirt refuses the registration.
    public func lifecycleEvents() async throws -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DomainEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let sink = events
        // Added and registered on the queue, so that it is ordered with close() and with the last stream's
        // deregistration.
        let key: UInt64 = try await call("register for lifecycle events") { conn in
            let key = sink.add(continuation)
            guard self.state.withLock({ $0.eventRegistration == nil }) else { return key }
            let opaque = Unmanaged.passRetained(sink).toOpaque()
            let id = virConnectDomainEventRegisterAny(
                conn, nil, Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue),
                unsafeBitCast(lifecycleCallback, to: virConnectDomainEventGenericCallback.self), opaque, releaseSink)
            guard id >= 0 else {
                sink.remove(key)
                // Whether libvirt calls the free callback on a failed registration differs between its
                // drivers; leaking one small reference is safer than releasing it twice.
                throw lastLibvirtError("register for lifecycle events")
            }
            self.state.withLock { $0.eventRegistration = id }
            return key
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.queue.async {
                sink.remove(key)
                guard sink.isEmpty else { return }
                // After a close the handle and the registration are gone.
                let (handle, id) = self.state.withLock { s -> (CPointer?, Int32?) in
                    guard let id = s.eventRegistration, let handle = s.handle else { return (nil, nil) }
                    s.eventRegistration = nil
                    return (handle, id)
                }
                if let handle, let id { _ = virConnectDomainEventDeregisterAny(handle.raw, id) }
            }
        }
        return stream
    }
}
