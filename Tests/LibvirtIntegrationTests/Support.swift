import Foundation
import Testing

/// A scratch folder for one test, removed when `body` ends (also when it throws).
func withScratch<T>(_ label: String, _ body: (URL) async throws -> T) async throws -> T {
    let base = URL(fileURLWithPath: NSTemporaryDirectory())
        .appendingPathComponent("vem-libvirt-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    // VEM_KEEP_SCRATCH=1 keeps the folder (daemon logs, consoles) for a post-mortem.
    defer {
        if ProcessInfo.processInfo.environment["VEM_KEEP_SCRATCH"] == nil {
            try? FileManager.default.removeItem(at: base)
        }
    }
    return try await body(base)
}

/// Writes a `test:///` host description: fake hardware and, optionally, one domain that is not VEM's.
func writeTestHost(
    _ dir: URL, name: String = "host.xml", cpus: Int = 8, memoryKiB: Int = 16_777_216,
    preexisting: String? = "preexisting"
) throws -> String {
    var xml = """
        <node>
          <cpu><mhz>2400</mhz><model>x86_64</model><active>\(cpus)</active><nodes>1</nodes><sockets>1</sockets>\
        <cores>\(cpus)</cores><threads>1</threads></cpu>
          <memory>\(memoryKiB)</memory>

        """
    if let preexisting {
        xml += """
              <domain type='test'><name>\(preexisting)</name><memory unit='MiB'>1024</memory><vcpu>2</vcpu>\
            <os><type arch='x86_64'>hvm</type></os></domain>

            """
    }
    xml += "</node>\n"
    let file = dir.appendingPathComponent(name)
    try xml.write(to: file, atomically: true, encoding: .utf8)
    return "test://" + file.path
}

/// A template for the test driver.
let testDriverTemplate = """
    <domain type='test'>
      <name>{{name}}</name>
      <uuid>{{uuid}}</uuid>
      <memory unit='MiB'>{{memory_mib}}</memory>
      <vcpu>{{vcpus}}</vcpu>
      <os><type arch='x86_64'>hvm</type></os>
      <description>{{identity}}</description>
    </domain>
    """

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(
    _ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out after \(timeout) waiting for \(what)")
    throw CancellationError()
}

/// Collects events from a stream in the background.
actor EventLog<E: Sendable> {
    private(set) var events: [E] = []
    private var task: Task<Void, Never>?

    init() {}

    func start(_ stream: AsyncStream<E>) {
        task = Task {
            for await e in stream { self.append(e) }
            self.markEnded()
        }
    }

    /// True once the stream has finished.
    private(set) var ended = false

    private func append(_ e: E) { events.append(e) }
    private func markEnded() { ended = true }

    func stop() { task?.cancel() }
}

/// Seconds since `start`, for timing reports.
func seconds(since start: ContinuousClock.Instant) -> String {
    let d = ContinuousClock.now - start
    return String(format: "%.2f s", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
}
