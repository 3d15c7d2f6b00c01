import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `vem bench bus --tls` as a program (issue 17): 50 simulated Clients, each with a certificate of its own from a
/// throwaway CA, against the real hub with mutual TLS and against the plain hub in the same run. Light: the
/// 10,000-Client figures are measured by hand with a release build (README, Performance).
@Suite("Bus bench with TLS")
struct BusBenchTLSTests {
    @Test func reportsBothRoundsWithNoLostReply() async throws {
        let clients = 50
        let process = Process()
        process.executableURL = HubHarness.vemExecutable
        process.arguments = [
            "bench", "bus", "--tls", "--clients", "\(clients)", "--rounds", "4", "--blocks", "2", "--rounds-only",
            "--json",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let exited = AsyncStream<Int32> { continuation in
            process.terminationHandler = { continuation.yield($0.terminationStatus) }
        }
        try process.run()
        // The bench ends on its own; should it hang, it is killed after two minutes (a generous bound for a
        // debug build on a loaded machine) and the test fails on its status.
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            Glibc.kill(pid, SIGKILL)
        }
        var statuses = exited.makeAsyncIterator()
        let status = await statuses.next()
        watchdog.cancel()
        // One JSON line (no notes): far less than a pipe's buffer, so reading after the exit never blocks.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let figures = try #require(object, "not one JSON object: \(String(decoding: data, as: UTF8.self))")
        func number(_ key: String) -> Double? { (figures[key] as? NSNumber)?.doubleValue }

        #expect(number("clients") == Double(clients))
        #expect(number("tls_client_certificates") == Double(clients))
        // Two blocks of 2 warm-up and 2 measured rounds, on each hub; every reply of every round arrived.
        #expect(number("rounds_sent") == 8)
        #expect(number("tls_rounds_sent") == 8)
        #expect(number("replies_expected") == Double(8 * clients))
        #expect(number("tls_replies_expected") == Double(8 * clients))
        #expect(number("replies_missing") == 0)
        #expect(number("tls_replies_missing") == 0)
        let plain = try #require(number("round_p50_ms"))
        let secure = try #require(number("tls_round_p50_ms"))
        #expect(plain > 0 && secure > 0)
        #expect((number("tls_round_ratio") ?? 0) > 0)
    }
}
