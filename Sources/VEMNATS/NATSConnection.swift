import CNats
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// How to reach a NATS server or cluster.
public struct NATSConnectionOptions: Sendable {
    /// Server URLs (`nats://127.0.0.1:4222`); with a cluster, list several: libnats reconnects to the others (and
    /// learns further ones from the servers' INFO).
    public var servers: [String]
    /// The NATS user (`nil`: anonymous).
    public var user: String?
    /// Its password (never logged).
    public var password: String?
    /// The connection name the server shows (`/connz`, system events).
    public var name: String
    /// How long one connect attempt may take. Default 2 s.
    public var connectTimeout: Duration
    /// The wait between reconnect attempts to the same server. Default 100 ms.
    public var reconnectWait: Duration
    /// Reconnect attempts per server before giving up (`-1`: forever, the default).
    public var maximumReconnects: Int
    /// How often the client pings the server to detect a dead server. Default 2 s.
    public var pingInterval: Duration
    /// Deliver this connection's messages on libnats's shared delivery pool instead of one thread per
    /// subscription (many connections in one process, as in tests). Default `false`.
    public var sharedDelivery: Bool
    /// Try the servers in the order given (default: libnats shuffles them).
    public var noRandomize: Bool
    /// TLS to the servers with a client certificate: the site CA (`ca`) the server's certificate must come from,
    /// and this connection's certificate and key (for a server with `verify: true`). Default nil (plain, unless
    /// the URL says `tls://`).
    public var tls: (ca: String, certificate: String, key: String)?

    /// Creates options.
    public init(
        servers: [String], user: String? = nil, password: String? = nil, name: String = "vem",
        connectTimeout: Duration = .seconds(2), reconnectWait: Duration = .milliseconds(100),
        maximumReconnects: Int = -1, pingInterval: Duration = .seconds(2), sharedDelivery: Bool = false,
        noRandomize: Bool = false
    ) {
        self.noRandomize = noRandomize
        self.sharedDelivery = sharedDelivery
        self.servers = servers
        self.user = user
        self.password = password
        self.name = name
        self.connectTimeout = connectTimeout
        self.reconnectWait = reconnectWait
        self.maximumReconnects = maximumReconnects
        self.pingInterval = pingInterval
    }
}

/// Receivers of a connection's asynchronous events, called on libnats threads (keep them fast, never block).
public struct NATSConnectionHandlers: Sendable {
    /// The connection to the server was lost (libnats reconnects by itself).
    public var disconnected: @Sendable () -> Void
    /// The connection is up again (possibly to another server of the cluster).
    public var reconnected: @Sendable () -> Void
    /// The connection is closed for good.
    public var closed: @Sendable () -> Void
    /// An asynchronous error: a permissions violation, a slow consumer; with the server's last error text.
    public var error: @Sendable (NATSError) -> Void

    /// Creates handlers (each defaults to doing nothing).
    public init(
        disconnected: @escaping @Sendable () -> Void = {}, reconnected: @escaping @Sendable () -> Void = {},
        closed: @escaping @Sendable () -> Void = {}, error: @escaping @Sendable (NATSError) -> Void = { _ in }
    ) {
        self.disconnected = disconnected
        self.reconnected = reconnected
        self.closed = closed
        self.error = error
    }
}

/// One received message, valid only during the handler call (its bytes belong to libnats).
public struct NATSMessageView {
    /// The subject it was published to (NUL-terminated, owned by libnats).
    public let subjectPointer: UnsafePointer<CChar>
    /// The payload.
    public let payload: UnsafeRawBufferPointer

    init(subjectPointer: UnsafePointer<CChar>, payload: UnsafeRawBufferPointer) {
        self.subjectPointer = subjectPointer
        self.payload = payload
    }

    /// The subject as a string.
    public var subject: String { String(cString: subjectPointer) }
}

/// A connection to NATS through libnats: publish, subscribe with a handler, flush, close.
///
/// libnats is thread-safe; callbacks arrive on its threads through C function pointers that receive an
/// `Unmanaged` context (no capturing closure crosses into C). Blocking calls (connect, flush, close) run on a
/// dispatch queue, never on Swift's cooperative pool.
public final class NATSConnection: @unchecked Sendable {
    // @unchecked: `handle` is a libnats connection (thread-safe by contract); the rest is immutable or locked.

    /// The subscriptions' contexts and handles, released at close.
    private let subscriptions = Mutex(Handles(pointers: []))
    private let closedFlag = Atomic<Bool>(false)
    let handle: OpaquePointer
    /// The options it was made with.
    public let options: NATSConnectionOptions

    private init(handle: OpaquePointer, options: NATSConnectionOptions) {
        self.handle = handle
        self.options = options
    }

    /// Connects (off the cooperative pool).
    /// - Parameters:
    ///   - options: Servers, credentials, timeouts.
    ///   - handlers: Connection events.
    /// - Throws: ``NATSError/Code/connect``.
    public static func connect(
        _ options: NATSConnectionOptions, handlers: NATSConnectionHandlers = .init()
    ) async throws(NATSError) -> NATSConnection {
        let result = await offPool { () -> Result<NATSConnection, NATSError> in
            Result { () throws(NATSError) in try connectBlocking(options, handlers: handlers) }
        }
        return try result.get()
    }

    /// Connects on the calling thread (it blocks up to the connect timeout per server).
    static func connectBlocking(
        _ options: NATSConnectionOptions, handlers: NATSConnectionHandlers
    ) throws(NATSError) -> NATSConnection {
        guard !options.servers.isEmpty else { throw NATSError(.connect, "no NATS server URL given") }
        var opts: OpaquePointer?
        var status = natsOptions_Create(&opts)
        guard status == NATS_OK, let opts else { throw NATSError(.connect, "options", status: status) }
        defer { natsOptions_Destroy(opts) }
        let box = Unmanaged.passRetained(HandlerBox(handlers)).toOpaque()
        var cStrings = options.servers.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        status = cStrings.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return NATS_INVALID_ARG }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                natsOptions_SetServers(opts, $0, Int32(buffer.count))
            }
        }
        if status == NATS_OK, options.user != nil || options.password != nil {
            status = natsOptions_SetUserInfo(opts, options.user, options.password)
        }
        if status == NATS_OK { status = natsOptions_SetName(opts, options.name) }
        if status == NATS_OK, let tls = options.tls {
            status = natsOptions_SetSecure(opts, true)
            if status == NATS_OK { status = natsOptions_LoadCATrustedCertificates(opts, tls.ca) }
            if status == NATS_OK { status = natsOptions_LoadCertificatesChain(opts, tls.certificate, tls.key) }
            if status != NATS_OK { throw NATSError(.connect, "TLS files \(tls.certificate), \(tls.key), \(tls.ca)", status: status) }
        }
        if status == NATS_OK { status = natsOptions_SetTimeout(opts, options.connectTimeout.milliseconds) }
        if status == NATS_OK { status = natsOptions_SetReconnectWait(opts, options.reconnectWait.milliseconds) }
        if status == NATS_OK { status = natsOptions_SetReconnectJitter(opts, 20, 20) }
        if status == NATS_OK { status = natsOptions_SetMaxReconnect(opts, Int32(clamping: options.maximumReconnects)) }
        if status == NATS_OK { status = natsOptions_SetPingInterval(opts, options.pingInterval.milliseconds) }
        if status == NATS_OK { status = natsOptions_SetMaxPingsOut(opts, 2) }
        if status == NATS_OK, options.noRandomize { status = natsOptions_SetNoRandomize(opts, true) }
        if status == NATS_OK, options.sharedDelivery { status = natsOptions_UseGlobalMessageDelivery(opts, true) }
        if status == NATS_OK { status = natsOptions_SetDisconnectedCB(opts, onDisconnected, box) }
        if status == NATS_OK { status = natsOptions_SetReconnectedCB(opts, onReconnected, box) }
        if status == NATS_OK { status = natsOptions_SetClosedCB(opts, onClosed, box) }
        if status == NATS_OK { status = natsOptions_SetErrorHandler(opts, onError, box) }
        var connection: OpaquePointer?
        if status == NATS_OK { status = natsConnection_Connect(&connection, opts) }
        guard status == NATS_OK, let connection else {
            Unmanaged<HandlerBox>.fromOpaque(box).release()
            let servers = options.servers.joined(separator: ",")
            throw NATSError(.connect, "cannot connect to \(servers)", status: status)
        }
        return NATSConnection(handle: connection, options: options)
    }

    /// Publishes a payload (buffered by libnats; also while reconnecting, up to its reconnect buffer).
    /// - Throws: ``NATSError/Code/io`` when the connection is closed or the buffer is full.
    public func publish(_ subject: String, _ payload: UnsafeRawBufferPointer) throws(NATSError) {
        let status = natsConnection_Publish(handle, subject, payload.baseAddress, Int32(clamping: payload.count))
        guard status == NATS_OK else { throw NATSError(.io, "publish to \(subject)", status: status) }
    }

    /// Publishes bytes.
    public func publish(_ subject: String, _ payload: [UInt8]) throws(NATSError) {
        let status = payload.withUnsafeBytes { raw in
            natsConnection_Publish(handle, subject, raw.baseAddress, Int32(clamping: raw.count))
        }
        guard status == NATS_OK else { throw NATSError(.io, "publish to \(subject)", status: status) }
    }

    /// Subscribes; the handler runs on the subscription's libnats delivery thread, one message at a time, in
    /// arrival order. No pending limit: a slow handler costs memory, never messages.
    /// - Parameters:
    ///   - subject: The subject (wildcards allowed).
    ///   - handler: Receives each message.
    /// - Throws: ``NATSError/Code/io``.
    public func subscribe(
        _ subject: String, handler: @escaping @Sendable (NATSMessageView) -> Void
    ) throws(NATSError) {
        let box = Unmanaged.passRetained(MessageBox(handler)).toOpaque()
        var sub: OpaquePointer?
        var status = natsConnection_Subscribe(&sub, handle, subject, onMessage, box)
        guard status == NATS_OK, let sub else {
            Unmanaged<MessageBox>.fromOpaque(box).release()
            throw NATSError(.io, "subscribe to \(subject)", status: status)
        }
        status = natsSubscription_SetOnCompleteCB(sub, onSubscriptionComplete, box)
        if status == NATS_OK { status = natsSubscription_SetPendingLimits(sub, -1, -1) }
        let added = Handles(pointers: [sub])
        subscriptions.withLock { $0.pointers += added.pointers }
        guard status == NATS_OK else { throw NATSError(.io, "configure subscription to \(subject)", status: status) }
    }

    /// Waits until the server has processed everything published so far (off the cooperative pool). After it
    /// returns, the server has also checked the permissions of those publishes.
    /// - Throws: ``NATSError/Code/io`` on timeout or a closed connection.
    public func flush(timeout: Duration = .seconds(2)) async throws(NATSError) {
        let status = await offPool { natsConnection_FlushTimeout(self.handle, timeout.milliseconds) }
        guard status == NATS_OK else { throw NATSError(.io, "flush", status: status) }
    }

    /// The id the current server gave this connection (its `cid` in system events), and that server's id.
    public var serverConnection: (cid: UInt64, serverID: String)? {
        var cid: UInt64 = 0
        guard natsConnection_GetClientID(handle, &cid) == NATS_OK else { return nil }
        let serverID = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer -> String? in
            buffer.initialize(repeating: 0)
            guard natsConnection_GetConnectedServerId(handle, buffer.baseAddress, buffer.count) == NATS_OK,
                let base = buffer.baseAddress
            else { return nil }
            return String(cString: base)
        }
        guard let serverID else { return nil }
        return (cid, serverID)
    }

    /// Whether the connection is up now (not reconnecting, not closed).
    public var isConnected: Bool { natsConnection_Status(handle) == NATS_CONN_STATUS_CONNECTED }

    /// Closes the connection (flushing what was published) and frees it, off the cooperative pool. Idempotent.
    public func close() async {
        guard !closedFlag.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let subs = subscriptions.withLock { subs in defer { subs.pointers = [] }; return subs }
        await offPool {
            natsConnection_Close(self.handle)
            for sub in subs.pointers { natsSubscription_Destroy(sub) }
            natsConnection_Destroy(self.handle)
        }
    }
}

/// libnats handles moved to the queue that frees them.
private struct Handles: @unchecked Sendable {
    var pointers: [OpaquePointer]
}

// MARK: C callbacks (no captures: the context is an Unmanaged box)

final class HandlerBox: Sendable {
    let handlers: NATSConnectionHandlers
    init(_ handlers: NATSConnectionHandlers) { self.handlers = handlers }
}

final class MessageBox: Sendable {
    let handler: @Sendable (NATSMessageView) -> Void
    init(_ handler: @escaping @Sendable (NATSMessageView) -> Void) { self.handler = handler }
}

private let onDisconnected: natsConnectionHandler = { _, context in
    guard let context else { return }
    Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue().handlers.disconnected()
}

private let onReconnected: natsConnectionHandler = { _, context in
    guard let context else { return }
    Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue().handlers.reconnected()
}

/// The last connection callback: releases the handler box retained at connect.
private let onClosed: natsConnectionHandler = { _, context in
    guard let context else { return }
    let box = Unmanaged<HandlerBox>.fromOpaque(context)
    box.takeUnretainedValue().handlers.closed()
    box.release()
}

private let onError: natsErrHandler = { connection, _, status, context in
    guard let context else { return }
    var detail = NATSError.text(of: status)
    var lastError: UnsafePointer<CChar>?
    if let connection, natsConnection_GetLastError(connection, &lastError) != NATS_OK, let lastError {
        detail = String(cString: lastError)
    }
    let code: NATSError.Code = status == NATS_NOT_PERMITTED ? .permissionViolation : .io
    Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue().handlers.error(NATSError(code, detail))
}

private let onMessage: natsMsgHandler = { _, _, message, context in
    guard let message else { return }
    defer { natsMsg_Destroy(message) }
    guard let context, let subject = natsMsg_GetSubject(message) else { return }
    let length = Int(natsMsg_GetDataLength(message))
    let payload = UnsafeRawBufferPointer(start: natsMsg_GetData(message), count: length)
    let view = NATSMessageView(subjectPointer: subject, payload: payload)
    Unmanaged<MessageBox>.fromOpaque(context).takeUnretainedValue().handler(view)
}

/// The subscription will deliver nothing more: releases its handler box.
private let onSubscriptionComplete: natsOnCompleteCB = { context in
    guard let context else { return }
    Unmanaged<MessageBox>.fromOpaque(context).release()
}

extension Duration {
    /// Whole milliseconds (clamped), for libnats's `int64_t` millisecond arguments.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1000).overflow
            ? Int64.max : seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Runs blocking work on a dispatch queue and awaits it, keeping Swift's cooperative threads free (also used by
/// VEMTestKit's nats-server launcher).
public func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
