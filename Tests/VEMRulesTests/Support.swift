import VEMCore
@testable import VEMRules

/// A minimal host object for tests: a client with a few properties.
final class TestClient: HostObject {
    let attributes: [String: Value]
    init(_ name: String, ramFree: Int64, load: Double, group: String? = nil) {
        attributes = ["name": .string(name), "ram_free": .int(ramFree), "load": .float(load),
                      "group": group.map { .string($0) } ?? .none]
    }
    var typeName: String { "client" }
    var attributeNames: [String] { attributes.keys.sorted() }
    func attribute(named name: String) -> Value? { attributes[name] }
}

/// A test manager whose `clients` are given.
final class TestManager: HostObject {
    let clients: [TestClient]
    init(_ clients: [TestClient]) { self.clients = clients }
    var typeName: String { "manager" }
    var attributeNames: [String] { ["clients"] }
    func attribute(named name: String) -> Value? {
        name == "clients" ? .list(clients.map { .object($0) }) : nil
    }
}

/// Globals with three clients, a recording sender and log.
func testGlobals(_ recorder: CallRecorder = CallRecorder()) -> [String: Value] {
    let m = TestManager([
        TestClient("h1", ramFree: 500, load: 0.5, group: "atlas"),
        TestClient("h2", ramFree: 4000, load: 5.0, group: "cms"),
        TestClient("h3", ramFree: 2000, load: 1.5),
    ])
    return ["manager": .object(m), "sender": .object(RecordingSender(recorder: recorder)),
            "log": recorder.logFunction]
}

/// The outcome of a text: the result's repr, or `!line:col: message` for an error.
func outcome(_ text: String, globals: [String: Value] = testGlobals(), kind: ProgramKind = .expression,
             limits: Limits = Limits()) -> String {
    let compiled = CompiledProgram.compile(SourceText(standalone: text), kind: kind, knownGlobals: Set(globals.keys),
                                           limits: limits)
    guard let program = compiled.program else {
        let d = compiled.diagnostics.first { $0.severity == .error }
        return "!\(d?.location.line ?? 0):\(d?.location.column ?? 0): \(d?.message ?? "?")"
    }
    do {
        return try program.evaluate(globals: globals, limits: limits).repr
    } catch {
        return "!\(error.location?.line ?? 0):\(error.location?.column ?? 0): \(error.message)"
    }
}
