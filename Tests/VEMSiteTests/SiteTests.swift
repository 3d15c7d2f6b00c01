import Testing
import VEMConfig
import VEMCore
@testable import VEMSite

@Suite struct SiteTests {
    private let paper = """
        [ram_free]
        command = ram
        parameters = MemFree
        return_type = int
        ticks = 60

        [client_query]
        expr = { len(manager.clients) != 0 }
        cmd = { sender.send_get_property() }
        ticks = 30
        on_update_check = no
        """

    @Test func thePapersExamplesLoadAndCompile() throws {
        let result = Site.load([ConfigSource(name: "paper.ini", text: paper)])
        #expect(!result.diagnostics.hasErrors, "\(result.diagnostics)")
        let site = try #require(result.site)
        #expect(site.configuration.properties.map(\.name) == ["ram_free"])
        #expect(site.triggers.map(\.name) == ["client_query"])
        #expect(site.triggers[0].definition.ticks == 30)
        #expect(site.triggers[0].definition.onUpdateCheck == false)
    }

    @Test func anUnknownNameInATriggerPointsIntoTheINIFile() {
        let text = """
            [t]
            expr = { len(manager.clients) > 0 and managr.groups }
            cmd = { log("x") }
            ticks = 5
            """
        let result = Site.load([ConfigSource(name: "site.ini", text: text)])
        #expect(result.site == nil)
        let error = result.diagnostics.first { $0.severity == .error }
        #expect(error?.location == SourceLocation(file: "site.ini", line: 2, column: 39))
        #expect(error?.message.contains("managr") == true)
        #expect(error?.message.contains("manager") == true)
    }

    @Test func aSyntaxErrorOnTheSecondLineOfACmdIsMapped() {
        let text = """
            [t]
            expr = { True }
            cmd = {
                log("one")
                log("two" +)
            }
            ticks = 5
            """
        let result = Site.load([ConfigSource(name: "site.ini", text: text)])
        #expect(result.site == nil)
        let error = result.diagnostics.first { $0.severity == .error }
        #expect(error?.location.file == "site.ini")
        #expect(error?.location.line == 5)
    }

    @Test func configurationErrorsAndRuleErrorsAreReportedTogether() {
        let text = """
            [p]
            command = ram
            ticks = soon

            [t]
            expr = { 1 + }
            cmd = { log("x") }
            ticks = 5
            """
        let result = Site.load([ConfigSource(name: "s.ini", text: text)])
        #expect(result.site == nil)
        #expect(result.diagnostics.filter { $0.severity == .error }.map(\.location.line).contains(3))
    }

    @Test func aTriggersOwnBudgetOverridesTheManagers() throws {
        let text = """
            [manager]
            step_budget = 5000

            [a]
            expr = { True }
            cmd = { log("a") }
            ticks = 5

            [b]
            expr = { True }
            cmd = { log("b") }
            ticks = 5
            step_budget = 77
            """
        let site = try #require(Site.load([ConfigSource(name: "s.ini", text: text)]).site)
        #expect(site.triggers.map(\.limits.maxSteps) == [5000, 77])
    }
}
