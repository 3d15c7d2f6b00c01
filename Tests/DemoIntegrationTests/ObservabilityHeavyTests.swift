import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import VEMBatch
import VEMDemo
import VEMManager
import VEMPolicy
import VEMPool

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The Manager watched from outside, with real programs: a real Prometheus (Debian's `prometheus`) scrapes
/// `/metrics` and is asked how many VMs each group has; headless Chromium (Debian's `chromium`) loads the
/// dashboard while the in-process site of the demo runs, and shows a VM the moment the Manager creates it.
/// Heavy (scripts/test-phases): each starts a browser or a Prometheus beside a whole site.
///
/// Screenshots and DOM dumps are kept in `.build/artefacts/observability/` (the path is printed).
@Suite(.serialized) struct ObservabilityHeavyTests {
    static let artefacts: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            ".build/artefacts/observability")

    /// The site: one host of 4 vCPUs, groups atlas and cms; atlas sends 4 jobs at `submitTime`.
    static func site(submitTime: Int) throws -> (InProcessSite.Configuration, ReplayBatch) {
        let jobs = (1...4).map { ReplayJob(jobNumber: $0, group: "atlas", submitTime: submitTime, runTime: 5000) }
        let configuration = InProcessSite.Configuration(
            hosts: ["host1"], cpusPerHost: 4, memoryPerHostMiB: 8192,
            groups: [PoolGroup(name: "atlas", share: 50), PoolGroup(name: "cms", share: 50)],
            policy: PolicyConfiguration(
                maxBootingSiteWide: 4, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
                starvationGrace: PoolSimulation.preemptionOff),
            bootDelay: .zero)
        return (configuration, try ReplayBatch(jobs: jobs, configuration: .init(wideJobs: .wait)))
    }

    @Test func prometheusScrapesTheManagerAndAnswersHowManyVMsEachGroupHas() async throws {
        let scratch = try scratchDirectory("vem-prometheus")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (configuration, batch) = try Self.site(submitTime: 0)
        let clock = ManualClock(start: 0)
        try await withInProcessSite(configuration, batch: batch, clock: clock) { site in
            try await withOperatorHTTP(site.manager) { httpPort in
                #expect(
                    await advance(clock, upTo: 400) {
                        site.manager.pool.currentVMs().filter { $0.stage == "active" }.count == 4
                    })
                try await withPrometheus(scraping: httpPort, in: scratch) { prometheus in
                    // Waits for a scrape that saw the four VMs (Prometheus scrapes every second).
                    var answer: [String: Double] = [:]
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        answer = try await prometheus.query("sum by (group) (vem_vms)")
                        if answer["atlas"] == 4 { break }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    #expect(answer == ["atlas": 4, "cms": 0], "Prometheus answered \(answer)")
                    let active = try await prometheus.query(#"sum by (group) (vem_vms{stage="active"})"#)
                    #expect(active["atlas"] == 4)
                    let held = try await prometheus.query("vem_group_held_vms")
                    #expect(held["atlas"] == 4, "\(held)")
                    let up = try await prometheus.query(#"up{job="vem"}"#)
                    #expect(up.values.first == 1)
                }
            }
        }
    }

    @Test func theDashboardInChromiumShowsTheGroupsAndAVMAsItIsCreated() async throws {
        let scratch = try scratchDirectory("vem-dashboard")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.createDirectory(at: Self.artefacts, withIntermediateDirectories: true)
        print("dashboard artefacts: \(Self.artefacts.path)")
        // The jobs arrive at t=100: the page first shows an empty pool.
        let (configuration, batch) = try Self.site(submitTime: 100)
        let clock = ManualClock(start: 0)
        try await withInProcessSite(configuration, batch: batch, clock: clock) { site in
            try await withOperatorHTTP(site.manager) { httpPort in
                let url = "http://127.0.0.1:\(httpPort)/"
                let before = try await chromium(
                    ["--screenshot=\(Self.artefacts.path)/dashboard-before.png", url], in: scratch)
                #expect(before.status == 0, "\(before.stderr)")
                // A browser stays on the page; its script reports each update it rendered to /dashboard/seen.
                let browser = try startChromium(url, in: scratch)
                defer { browser.stop() }
                // Each wait is one request the dashboard answers when the browser's report comes (an event).
                let first = try await seen(httpPort, waitFor: "wait_updates=1")
                #expect(first.updates >= 1 && first.vms == 0, "\(first)")
                // The jobs arrive; the Manager creates VMs; the page shows them without a reload.
                #expect(await advance(clock, upTo: 300) { !site.manager.pool.currentVMs().isEmpty })
                #expect(try await seen(httpPort, waitFor: "wait_vms=1").vms ?? 0 >= 1)
                browser.stop()
                let dom = try await chromium(["--dump-dom", url], in: scratch)
                try dom.stdout.write(
                    to: Self.artefacts.appendingPathComponent("dashboard-after.html"), atomically: true, encoding: .utf8
                )
                for group in ["atlas", "cms"] { #expect(dom.stdout.contains(#"<td class="group">\#(group)</td>"#)) }
                #expect(dom.stdout.contains(#"class="vm "#))
                let after = try await chromium(
                    ["--screenshot=\(Self.artefacts.path)/dashboard-after.png", url], in: scratch)
                #expect(after.status == 0, "\(after.stderr)")
                let png = try Data(contentsOf: Self.artefacts.appendingPathComponent("dashboard-after.png"))
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            }
        }
    }
}

// MARK: The operator's HTTP server, Prometheus and Chromium

/// Serves the operator API (with /metrics and the dashboard) over `manager` on a free loopback port while
/// `body` runs.
func withOperatorHTTP<T: Sendable>(_ manager: Manager, _ body: (Int) async throws -> T) async throws -> T {
    let (ports, bound) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "vem.http")
    logger.logLevel = .critical
    let service = try OperatorHTTP.service(
        api: OperatorAPI(manager: manager), host: "127.0.0.1", port: 0, logger: logger,
        onBound: { bound.yield($0) })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await service.run() }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the operator API did not start") }
        return try await body(port)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func scratchDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// GET `url`'s body (a hang guard of `timeout` seconds).
func httpGet(_ url: String, timeout: Double = 10) async throws -> Data {
    guard let u = URL(string: url) else { throw TestFailure("bad URL \(url)") }
    var request = URLRequest(url: u)
    request.timeoutInterval = timeout
    let (data, response) = try await URLSession.shared.data(for: request)
    guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw TestFailure("\(url): \(response)") }
    return data
}

/// What the dashboard's last browser reported it rendered, once it shows what `condition` asks for
/// (`wait_updates=1`, `wait_vms=1`; the dashboard answers at that report, or after 60 s).
func seen(_ port: Int, waitFor condition: String) async throws -> ObservabilityRoutes.SeenReport {
    let url = "http://127.0.0.1:\(port)/dashboard/seen?\(condition)&wait=60"
    return try JSONDecoder().decode(ObservabilityRoutes.SeenReport.self, from: try await httpGet(url, timeout: 70))
}

/// Polls `condition` every 100 ms for at most `seconds` (a hang guard: what is awaited is an event).
func waitFor(_ what: String, seconds: Double = 60, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}

/// A child process started by a test, stopped by its PID.
final class ChildProcess: Sendable {
    let process: Process

    init(_ executable: String, _ arguments: [String], log: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then SIGKILL after 5 s; waits for the exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A real Prometheus on loopback scraping `127.0.0.1:target` every second, in `directory`.
struct PrometheusServer {
    let port: Int

    /// The result of an instant query as label value (of the first label, or "") → value.
    func query(_ promQL: String) async throws -> [String: Double] {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: promQL)]
        let data = try await httpGet(components.url!.absoluteString)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            object["status"] as? String == "success",
            let result = (object["data"] as? [String: Any])?["result"] as? [[String: Any]]
        else { throw TestFailure("Prometheus answered \(String(decoding: data, as: UTF8.self))") }
        var answer: [String: Double] = [:]
        for series in result {
            let labels = series["metric"] as? [String: String] ?? [:]
            let key = labels["group"] ?? labels.filter { $0.key != "__name__" }.values.sorted().first ?? ""
            if let pair = series["value"] as? [Any], pair.count == 2, let text = pair[1] as? String,
                let value = Double(text)
            {
                answer[key] = value
            }
        }
        return answer
    }
}

/// A free loopback port (bound, then released; Prometheus is retried on another if it lost the race).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw TestFailure("bind failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func withPrometheus<T>(scraping target: Int, in directory: URL, _ body: (PrometheusServer) async throws -> T)
    async throws -> T
{
    let config = directory.appendingPathComponent("prometheus.yml")
    try """
    global:
      scrape_interval: 1s
      scrape_timeout: 1s
    scrape_configs:
      - job_name: vem
        static_configs:
          - targets: ['127.0.0.1:\(target)']
    """.write(to: config, atomically: true, encoding: .utf8)
    for attempt in 1...3 {
        let port = try freePort()
        let log = directory.appendingPathComponent("prometheus-\(attempt).log")
        let child = try ChildProcess(
            "/usr/bin/prometheus",
            [
                "--config.file=\(config.path)",
                "--storage.tsdb.path=\(directory.appendingPathComponent("data-\(attempt)").path)",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ], log: log)
        defer { child.stop() }
        let server = PrometheusServer(port: port)
        let ready = await waitFor("Prometheus ready", seconds: 60) {
            guard child.isRunning else { return true }
            return (try? await httpGet("http://127.0.0.1:\(port)/-/ready")) != nil
        }
        guard child.isRunning else {
            print("prometheus exited (attempt \(attempt)): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            continue
        }
        guard ready else { throw TestFailure("Prometheus not ready within 60 s") }
        return try await body(server)
    }
    throw TestFailure("Prometheus did not start")
}

/// The output of a finished Chromium run.
struct ChromiumOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

let chromiumFlags = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
    "--hide-scrollbars", "--window-size=1280,1400",
]

/// Runs headless Chromium once (`--screenshot`, `--dump-dom`), killed after 90 s.
func chromium(_ arguments: [String], in directory: URL) async throws -> ChromiumOutput {
    let profile = directory.appendingPathComponent("profile-\(UUID().uuidString)")
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
                process.arguments = chromiumFlags + ["--user-data-dir=\(profile.path)"] + arguments
                process.currentDirectoryURL = directory
                let out = Pipe()
                let err = Pipe()
                (process.standardOutput, process.standardError) = (out, err)
                process.standardInput = FileHandle.nullDevice
                try process.run()
                let guardTimer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: guardTimer)
                let group = DispatchGroup()
                nonisolated(unsafe) var errData = Data()
                DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
                let outData = out.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                guardTimer.cancel()
                continuation.resume(
                    returning: ChromiumOutput(
                        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                        stderr: String(decoding: errData, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

/// Starts a headless Chromium that stays on `url` until stopped.
func startChromium(_ url: String, in directory: URL) throws -> ChildProcess {
    let profile = directory.appendingPathComponent("profile-live")
    return try ChildProcess(
        "/usr/bin/chromium", chromiumFlags + ["--user-data-dir=\(profile.path)", "--remote-debugging-port=0", url],
        log: directory.appendingPathComponent("chromium.log"))
}
