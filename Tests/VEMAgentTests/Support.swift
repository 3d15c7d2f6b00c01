import VEMCore
import Foundation
import Testing

@testable import VEMAgent

/// The path of a fixture tree under `Fixtures/`.
func fixture(_ name: String) throws -> String {
    let base = try #require(Bundle.module.path(forResource: "Fixtures", ofType: nil))
    return base + "/" + name
}

/// A registry of the built-in property plugins reading the fixture tree `name`.
func registry(_ name: String) throws -> PluginRegistry {
    PluginRegistry.builtin(root: try fixture(name))
}

/// Reads one property through a registry.
func read(
    _ registry: PluginRegistry, _ plugin: String, _ parameters: [String] = [], as type: ReturnType,
    name: String = "p", now: Double = 0, timeout: Duration = .seconds(10)
) async -> PropertyResult {
    await registry.read(
        PropertyRequest(name: name, plugin: plugin, parameters: parameters, returnType: type, timeout: timeout),
        now: now)
}

/// A scratch directory that tests write `/proc`-like files into, removed by `remove()`.
struct ScratchRoot {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "/vem-agent-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` at the absolute path `file` under the root.
    func write(_ file: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path + file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Copies a fixture file (`proc-busy`, `/proc/stat`) to the same path under the root.
    func copy(from fixtureTree: String, _ file: String) throws {
        try write(file, try String(contentsOfFile: try fixture(fixtureTree) + file, encoding: .utf8))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// True when no process `pid` runs any more (reaped, or a zombie waiting for its reaper).
func processIsGone(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

extension PropertyResult {
    /// The failure's code, for `#expect(result.code == .missingFile)`.
    var code: AgentError.Code? { error?.code }
}

/// True when process `pid` (not our child: a grandchild that got `SIGKILL`) is gone.
///
/// `kill(2)` only queues a signal; the target dies when the kernel next schedules it, and nothing
/// notifies a non-parent of that. So this polls every 5 ms until the process is gone; the 30 s limit is a
/// hang guard (a process that survives SIGKILL that long is not going away). Our own children are checked with
/// ``processIsGone(_:)`` directly: they are reaped before ``ProcessRunner/run(_:arguments:onSpawn:)`` returns.
func grandchildIsGone(_ pid: Int32) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if processIsGone(pid) { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return processIsGone(pid)
}
