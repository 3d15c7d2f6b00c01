import Testing
import VEMCore
@testable import VEMRules

/// A `manager` over the same lists as a ``ManagerObject``, but not columnar: the general code always runs.
private final class PlainManager: HostObject {
    let inner: ManagerObject
    init(_ inner: ManagerObject) { self.inner = inner }
    var typeName: String { "manager" }
    var attributeNames: [String] { inner.attributeNames }
    func attribute(named name: String) -> Value? { inner.attribute(named: name) }
}

/// The expressions with a fast path, and neighbours that must not take one.
private let expressions = [
    "len(manager.clients) != 0",
    "len([c for c in manager.clients if c.ram_free < 3000]) > 1",
    "[c.name for c in manager.clients if c.ram_free < 3000]",
    "[c.name for c in manager.clients if c.ram_free <= 2000]",
    "[c.name for c in manager.clients if c.ram_free > 2000]",
    "[c.name for c in manager.clients if c.ram_free >= 2000]",
    "[c.name for c in manager.clients if c.ram_free == 2000]",
    "[c.name for c in manager.clients if c.ram_free != 2000]",
    "[c.name for c in manager.clients if c.ram_free == 2000.0]",
    "[c.name for c in manager.clients if c.ram_free < 2000.5]",
    "[c.name for c in manager.clients if c.load < 2]",
    "[c.name for c in manager.clients if c.load == 5]",
    "[c.name for c in manager.clients if c.load != 1.5]",
    "[c.name for c in manager.clients if c.load >= 0.5 if c.ram_free < 4000]",
    "[c for c in manager.clients if c.ram_free > 100]",
    "[c for c in manager.clients]",
    "[c.ram_free for c in manager.clients]",
    "[c.load for c in manager.clients if c.ram_free > 600]",
    "sum(c.load for c in manager.clients) / max(1, len(manager.clients))",
    "sum(c.ram_free for c in manager.clients)",
    "max(manager.clients, key=lambda c: c.ram_free).name",
    "min(manager.clients, key=lambda c: c.ram_free).name",
    "max(manager.clients, key=lambda c: c.load).name",
    "min(manager.clients, key=lambda c: c.load).name",
    "max(manager.clients, key=lambda c: c.missing)",
    "[c.name for c in manager.clients if c.missing < 1]",
    "[c.missing for c in manager.clients]",
    "[c.name for c in manager.hosts if c.ram_free < 1]",
    "max(manager.hosts, key=lambda h: h.ram_free)",
    "[c.name for c in manager.nothing if c.ram_free < 1]",
    "max(manager.nothing, key=lambda c: c.ram_free)",
    "[manager for manager in manager.clients if manager.ram_free < 3000]",
    "len(manager.hosts) + len(manager.clients)",
    "len(manager.nothing)",
]

/// A client whose attributes are given (`nil`: the attribute is missing).
private func client(_ name: String, _ ram: Value?, _ load: Value?) -> SnapshotObject {
    var a: [String: Value] = ["name": .string(name)]
    a["ram_free"] = ram
    a["load"] = load
    return SnapshotObject(typeName: "client", attributes: a)
}

/// Data sets: typed columns with ties, and each thing a fast path must leave to the general code.
private let datasets: [(String, [SnapshotObject])] = [
    ("typed", [client("a", 2000, 0.5), client("b", 4000, 5.0), client("c", 500, 1.5), client("d", 4000, 5.0),
               client("e", 500, 0.5)]),
    ("missing", [client("a", 2000, 0.5), client("b", nil, nil), client("c", 500, 1.5)]),
    ("none", [client("a", 2000, 0.5), client("b", Value.none, Value.none), client("c", 500, 1.5)]),
    ("mixed", [client("a", 2000, 1), client("b", 2000.0, 0.5), client("c", 500, 1.5), client("d", 4000.5, 2)]),
    ("nan", [client("a", 2000, .float(.nan)), client("b", 4000, 0.5), client("c", 500, .float(.nan))]),
    ("bool", [client("a", true, 0.5), client("b", false, 0.5)]),
    ("strings", [client("a", "x", 0.5), client("b", "y", 0.5)]),
    ("one", [client("a", 2000, 0.5)]),
    ("empty", []),
]

/// The outcome (repr or located error), steps and bytes of one evaluation.
private func measure(_ text: String, _ manager: any HostObject, _ limits: Limits = Limits()) throws -> String {
    let program = try CompiledProgram(compiling: SourceText(standalone: text), knownGlobals: ["manager"])
    do {
        let r = try program.run(globals: ["manager": .object(manager)], limits: limits)
        return "\(r.value.repr) steps=\(r.steps) built=\(r.built)"
    } catch {
        return "!\(error.location?.line ?? 0):\(error.location?.column ?? 0): \(error.message)"
    }
}

@Test(arguments: datasets.map(\.0))
func columnarEvaluationEqualsTheGeneralOne(_ dataset: String) throws {
    let clients = datasets.first { $0.0 == dataset }!.1
    for text in expressions {
        let fast = ManagerObject(Snapshot(clients: clients))
        let general = PlainManager(ManagerObject(Snapshot(clients: clients)))
        #expect(try measure(text, fast) == measure(text, general), "\(dataset): \(text)")
    }
}

@Test func theFastPathsRunOnTypedColumns() throws {
    let clients = datasets[0].1
    let program = try CompiledProgram(
        compiling: SourceText(standalone: "max(manager.clients, key=lambda c: c.ram_free).name"),
        knownGlobals: ["manager"])
    let fast = try program.run(globals: ["manager": .object(ManagerObject(Snapshot(clients: clients)))])
    let general = try program.run(
        globals: ["manager": .object(PlainManager(ManagerObject(Snapshot(clients: clients))))])
    #expect(fast.fastPaths == 1)
    #expect(general.fastPaths == 0)
    #expect(fast.value == "b")
    for text in [
        "[c for c in manager.clients if c.ram_free < 3000]", "sum(c.load for c in manager.clients)",
        "len(manager.clients)",
    ] {
        let p = try CompiledProgram(compiling: SourceText(standalone: text), knownGlobals: ["manager"])
        let r = try p.run(globals: ["manager": .object(ManagerObject(Snapshot(clients: clients)))])
        #expect(r.fastPaths == 1, "\(text)")
    }
}

/// At the exact step budget and byte ceiling the general code needs, and one below, both give the same outcome.
@Test func columnarEvaluationSpendsTheSameBudget() throws {
    let clients = (0..<300).map { client("c\($0)", .int(Int64($0 * 37 % 1000)), .float(Double($0 % 7) / 2)) }
    for text in expressions.prefix(24) {
        let fast = ManagerObject(Snapshot(clients: clients))
        let general = PlainManager(ManagerObject(Snapshot(clients: clients)))
        let program = try CompiledProgram(compiling: SourceText(standalone: text), knownGlobals: ["manager"])
        let needed = try program.run(globals: ["manager": .object(general)])
        for steps in [needed.steps, needed.steps - 1] {
            var limits = Limits(maxSteps: steps)
            #expect(try measure(text, fast, limits) == measure(text, general, limits), "\(text) at \(steps) steps")
            limits = Limits()
            limits.maxBuiltBytes = max(0, needed.built - 1)
            #expect(try measure(text, fast, limits) == measure(text, general, limits), "\(text) at \(needed.built)")
        }
    }
}

@Test func aColumnIsReadOnceAndKept() {
    let m = ManagerObject(Snapshot(clients: datasets[0].1))
    let column = m.column("ram_free", of: "clients")
    #expect(column?.ints == [2000, 4000, 500, 4000, 500])
    #expect(column?.floats == nil)
    #expect(m.column("ram_free", of: "clients") === column)
    #expect(m.column("load", of: "clients")?.floats == [0.5, 5.0, 1.5, 5.0, 0.5])
    #expect(m.column("missing", of: "clients")?.values == nil)
    #expect(m.column("ram_free", of: "nothing") == nil)
}
