import Testing
import VEMCore
@testable import VEMRules

@Suite struct PaperTests {
    let known: Set<String> = ["manager", "sender", "log"]

    @Test func clientQueryExprIsFalseWithoutClientsAndTrueWithOne() throws {
        let program = try CompiledProgram(compiling: SourceText(" len(manager.clients) != 0 ",
                                                                origin: SourceLocation(file: "paper.ini", line: 9, column: 9)),
                                          knownGlobals: known)
        let none = try program.evaluate(globals: ["manager": .object(TestManager([]))])
        let one = try program.evaluate(globals: ["manager": .object(TestManager([TestClient("h1", ramFree: 1, load: 0)]))])
        #expect(none == .bool(false))
        #expect(one == .bool(true))
        #expect(program.referencedGlobals == ["manager"])
    }

    @Test func clientQueryCmdRecordsExactlyOneCall() throws {
        let recorder = CallRecorder()
        let program = try CompiledProgram(compiling: SourceText(standalone: " sender.send_get_property() "),
                                          kind: .statements, knownGlobals: known)
        let result = try program.evaluate(globals: testGlobals(recorder))
        #expect(result == .none)
        #expect(recorder.calls.count == 1)
        #expect(recorder.calls.first?.description == "sender.send_get_property()")
    }

    @Test func multiStatementCmdRunsInOrder() throws {
        let recorder = CallRecorder()
        let text = """
            log("start"); sender.send_command(manager.clients[0], "reboot", force=True)
            sender.send_command(
                manager.clients[1],
                "drain")
            log(len(manager.clients))
            """
        let result = try CompiledProgram(compiling: SourceText(standalone: text), kind: .statements,
                                         knownGlobals: known).evaluate(globals: testGlobals(recorder))
        #expect(result == .none)
        #expect(recorder.calls.map(\.description) == [
            "log(\"start\")", "sender.send_command(<client>, \"reboot\", force=True)",
            "sender.send_command(<client>, \"drain\")", "log(3)",
        ])
    }

    @Test func anExpressionMustBeSingle() {
        #expect(outcome("1; 2") == "!1:4: an expression must be a single expression; several are allowed only in a cmd")
        #expect(outcome("1; 2", kind: .statements) == "2")
    }

    @Test func positionsMapThroughSourceTextOrigin() {
        // `expr = { 1 +` on line 12 of site.ini, the braces' text starting at column 10.
        let text = " len(manager.clients) +\n      \"x\" "
        let source = SourceText(text, origin: SourceLocation(file: "site.ini", line: 12, column: 10))
        let program = CompiledProgram.compile(source, knownGlobals: known).program
        do {
            _ = try program?.evaluate(globals: testGlobals())
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "site.ini:12:32: error: unsupported operand types for +: 'int' and 'str'")
        }
        let bad = CompiledProgram.compile(SourceText(" 1 +\n   clientz", origin: source.origin), knownGlobals: known)
        #expect(bad.program == nil)
        #expect(bad.diagnostics.map(\.description) == ["site.ini:13:4: error: undefined name 'clientz'"])
        let typo = CompiledProgram.compile(SourceText(" managr.clients", origin: source.origin), knownGlobals: known)
        #expect(typo.diagnostics.first?.description
                == "site.ini:12:11: error: undefined name 'managr'; did you mean 'manager'?")
        var renderer = DiagnosticRenderer()
        renderer.addFile(named: "site.ini", contents: String(repeating: "\n", count: 11) + "expr =  { managr.clients }")
        #expect(renderer.render(typo.diagnostics[0]).hasSuffix("expr =  { managr.clients }\n              ^~~~~~"))
    }

    @Test func diagnosticsAreCollectedAcrossStatements() {
        let r = CompiledProgram.compile(SourceText(standalone: "1 +\nfoo()\n3()\n[1,2"), kind: .statements,
                                        knownGlobals: [])
        #expect(r.diagnostics.map(\.description) == [
            "<expr>:1:4: error: unexpected new line",
            "<expr>:2:1: error: undefined name 'foo'",
            "<expr>:3:1: error: 'int' object is not callable",
            "<expr>:4:5: error: expected ']' to close the '[' at column 1, found end of expression",
        ])
    }

    @Test func snapshotJSON() throws {
        let json = """
            {"clients":[{"name":"h1","role":"dom0","host":"h1","group":null,"properties":{"ram_free":123,"load":0.5}},
                        {"name":"v1","role":"domU","host":"h1","group":"atlas","properties":{"ram_free":900,"load":4.5}}],
             "groups":[{"name":"atlas","share":40,"demand":12}]}
            """
        let snap = try Snapshot(json: Data(json.utf8))
        let g = snap.evalGlobals(recorder: CallRecorder())
        #expect(outcome("[c.name for c in manager.clients if c.ram_free < 1000 and c.load > 4]", globals: g) == "[\"v1\"]")
        #expect(outcome("manager.groups[0].share + manager.groups[0].demand", globals: g) == "52")
        #expect(outcome("manager.clients[0].properties", globals: g) == "{\"load\": 0.5, \"ram_free\": 123}")
        #expect(outcome("(manager.clients[0].group, manager.hosts, manager.vms)", globals: g) == "(None, [], [])")
        #expect(outcome("manager.clients[0].ram_fre", globals: g)
                == "!1:20: 'client' object has no attribute 'ram_fre'; did you mean 'ram_free'?")
        #expect(throws: RuleError.self) { try Snapshot(json: Data("[1]".utf8)) }
        #expect(throws: RuleError.self) { try Snapshot(json: Data("{\"clients\": [1]}".utf8)) }
        #expect(throws: RuleError.self) { try Snapshot(json: Data("{\"client\": []}".utf8)) }
    }
}

import Foundation
