import CLibvirt
import Foundation

/// A libvirt object pointer that may cross threads. libvirt objects are thread-safe; the driver still
/// only uses a connection's pointers on that connection's own queue.
struct CPointer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// Process-wide libvirt set-up, done once before the first connection is opened.
///
/// libvirt's default event loop must be registered **before** `virConnectOpen` (events, keep-alives and the
/// embedded QEMU driver need it), and `virEventRunDefaultImpl` blocks, so it runs on its own thread for the
/// life of the process. A periodic no-op timeout keeps that loop turning. libvirt's habit of printing every
/// error to standard error is switched off: errors are reported as ``LibvirtError`` values instead; so is
/// libxml2's (`I/O warning : failed to load external entity …` for a `test:///` file that does not exist), on
/// every thread that calls libvirt (libxml2 keeps its handler per thread).
enum LibvirtRuntime {
    private static let started: Bool = {
        vem_silence_libxml2()
        _ = virInitialize()
        virSetErrorFunc(nil, { _, _ in })
        _ = virEventRegisterDefaultImpl()
        _ = virEventAddTimeout(500, { _, _ in }, nil, nil)
        let thread = Thread {
            while true { _ = virEventRunDefaultImpl() }
        }
        thread.name = "vem-libvirt-events"
        thread.start()
        return true
    }()

    /// Registers the event loop and starts its thread, once per process.
    static func ensureStarted() { _ = started }

    /// Opens a connection (after the process-wide set-up).
    static func open(_ uri: String) -> OpaquePointer? {
        ensureStarted()
        vem_silence_libxml2()
        return virConnectOpen(uri)
    }

    /// Closes a connection.
    static func close(_ connection: OpaquePointer) {
        _ = virConnectClose(connection)
    }

    /// libvirt's version as `major.minor.micro`.
    static var version: String {
        ensureStarted()
        var v: UInt = 0
        guard virGetVersion(&v, nil, nil) == 0 else { return "unknown" }
        return "\(v / 1_000_000).\(v / 1000 % 1000).\(v % 1000)"
    }
}

/// Numeric libvirt error codes the driver maps to its own ``LibvirtError/Code``s.
enum LibvirtErrorNumber {
    static let noSupport = Int32(VIR_ERR_NO_SUPPORT.rawValue)
    static let noConnect = Int32(VIR_ERR_NO_CONNECT.rawValue)
    static let noDomain = Int32(VIR_ERR_NO_DOMAIN.rawValue)
    static let noDomainMetadata = Int32(VIR_ERR_NO_DOMAIN_METADATA.rawValue)
    static let operationInvalid = Int32(VIR_ERR_OPERATION_INVALID.rawValue)
    static let argumentUnsupported = Int32(VIR_ERR_ARGUMENT_UNSUPPORTED.rawValue)
}

/// The calling thread's last libvirt error as a ``LibvirtError`` (then reset).
/// - Parameters:
///   - operation: What the driver was doing.
///   - code: The code to use for errors that have no more specific mapping.
func lastLibvirtError(_ operation: String, default code: LibvirtError.Code = .libvirt) -> LibvirtError {
    guard let error = virGetLastError() else {
        return LibvirtError(code, "libvirt reported no error message", operation: operation)
    }
    let number = error.pointee.code
    let message = error.pointee.message.map { String(cString: $0) } ?? "libvirt error \(number)"
    virResetLastError()
    var mapped = code
    switch number {
    case LibvirtErrorNumber.noDomain: mapped = .domainNotFound
    case LibvirtErrorNumber.noSupport, LibvirtErrorNumber.argumentUnsupported:
        mapped = code == .libvirt ? .unsupported : code
    default: break
    }
    return LibvirtError(mapped, message, operation: operation, libvirtCode: number)
}

/// The libvirt error number of the calling thread's last error, if any, without resetting it.
func lastLibvirtErrorNumber() -> Int32? {
    virGetLastError()?.pointee.code
}

/// A UUID string buffer read through a libvirt getter.
func uuidString(_ fill: (UnsafeMutablePointer<CChar>) -> Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 37)
    let ok = buffer.withUnsafeMutableBufferPointer { b in b.baseAddress.map(fill) ?? -1 } == 0
    guard ok else { return "" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
