import Foundation
import Testing

/// `make install`'s copying step (scripts/install) and its systemd units, checked by `systemd-analyze verify`
/// (Debian's systemd package; no systemd needs to run), and `--log-format json` of a real `vem manager`.
@Suite struct InstallTests {
    /// Runs a program with environment additions, standard input empty, off the cooperative pool.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws
        -> ProcessOutput
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: executable)
                        process.arguments = arguments
                        process.currentDirectoryURL = packageRoot
                        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                        let out = Pipe()
                        let err = Pipe()
                        (process.standardOutput, process.standardError) = (out, err)
                        process.standardInput = FileHandle.nullDevice
                        try process.run()
                        let group = DispatchGroup()
                        nonisolated(unsafe) var errData = Data()
                        DispatchQueue.global().async(group: group) {
                            errData = err.fileHandleForReading.readDataToEndOfFile()
                        }
                        let outData = out.fileHandleForReading.readDataToEndOfFile()
                        group.wait()
                        process.waitUntilExit()
                        return ProcessOutput(
                            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                            stderr: String(decoding: errData, as: UTF8.self))
                    })
            }
        }
    }

    static func install(_ environment: [String: String]) async throws -> ProcessOutput {
        try await run(
            "/bin/bash", [packageRoot.appendingPathComponent("scripts/install").path],
            environment: ["VEM_BIN": vemExecutable.path, "CREATE_USER": "no"].merging(environment) { $1 })
    }

    @Test func aPackagingInstallPutsEverythingUnderDestdirAndNeverOverwritesTheConfiguration() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root").path
        let first = try await Self.install(["DESTDIR": root])
        #expect(first.status == 0, "\(first.stderr)")
        let fm = FileManager.default
        #expect(fm.isExecutableFile(atPath: root + "/usr/local/bin/vem"))
        #expect(fm.isExecutableFile(atPath: root + "/usr/local/bin/vem-agent"))
        for file in ["/etc/vem/site.ini", "/etc/vem/agent.ini", "/usr/local/share/vem/examples/paper.ini"] {
            #expect(fm.fileExists(atPath: root + file), "\(file)")
        }
        let state = try fm.attributesOfItem(atPath: root + "/var/lib/vem")
        #expect((state[.posixPermissions] as? Int) == 0o700)
        // The units name the installed paths, not DESTDIR's.
        let unit = try String(
            contentsOfFile: root + "/usr/local/lib/systemd/system/vem-manager.service", encoding: .utf8)
        #expect(
            unit.contains(
                "ExecStart=/usr/local/bin/vem manager -c /etc/vem/site.ini --journal /var/lib/vem/journal.sqlite"))
        #expect(!unit.contains(root) && !unit.contains("@BINDIR@") && !unit.contains("@STATEDIR@"))
        for completion in [
            "/usr/local/share/bash-completion/completions/vem", "/usr/local/share/zsh/site-functions/_vem",
            "/usr/local/share/fish/vendor_completions.d/vem.fish",
        ] {
            let text = try String(contentsOfFile: root + completion, encoding: .utf8)
            #expect(text.contains("manager") && text.contains("check-config"), "\(completion)")
        }
        // A second install leaves the site's edited configuration alone.
        try "# edited by the site\n".write(toFile: root + "/etc/vem/site.ini", atomically: true, encoding: .utf8)
        let second = try await Self.install(["DESTDIR": root])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("/etc/vem/site.ini exists, left as it is"))
        #expect(try String(contentsOfFile: root + "/etc/vem/site.ini", encoding: .utf8) == "# edited by the site\n")
    }

    @Test func systemdAnalyzeVerifiesTheInstalledUnits() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Installed for real (no DESTDIR) under the scratch directory, so that ExecStart names an executable.
        let installed = try await Self.install([
            "PREFIX": dir.path + "/usr", "SYSCONFDIR": dir.path + "/etc/vem", "STATEDIR": dir.path + "/var/lib/vem",
        ])
        #expect(installed.status == 0, "\(installed.stderr)")
        let units = ["vem-manager.service", "vem-agent.service"].map { dir.path + "/usr/lib/systemd/system/" + $0 }
        // --man=no: the man pages (`make man`) are not part of this install.
        let verify = try await Self.run("/usr/bin/systemd-analyze", ["verify", "--man=no"] + units)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stderr.isEmpty, "\(verify.stderr)")
        // The Manager's unit is hardened: systemd's own exposure score stays "OK" (below 2.0 of 10).
        let security = try await Self.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", units[0]])
        let score = security.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
        let value = score.flatMap { line in line.split(separator: " ").compactMap { Double($0) }.first }
        #expect(value.map { $0 < 2.0 } == true, "\(security.stdout.suffix(300))")
    }

    @Test func theManagerLogsOneJSONObjectPerLineAndNoToken() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = "t0k3n-\(UUID().uuidString)"
        try token.write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600], ofItemAtPath: dir.appendingPathComponent("token").path)
        let site = dir.appendingPathComponent("site.ini")
        try """
        [manager]
        listen = 127.0.0.1:0
        http_listen = 127.0.0.1:0
        token_file = \(dir.path)/token
        """.write(to: site, atomically: true, encoding: .utf8)
        // Started, waited for (its port file), stopped with SIGTERM; its standard error goes to a file.
        let log = dir.appendingPathComponent("manager.log")
        let ports = dir.appendingPathComponent("ports.json")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = vemExecutable
        process.arguments = ["manager", "-c", site.path, "--log-format", "json", "--port-file", ports.path]
        let handle = try FileHandle(forWritingTo: log)
        (process.standardError, process.standardOutput, process.standardInput) = (handle, handle, FileHandle.nullDevice)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: ports.path), process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: ports.path))
        process.terminate()
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
        let out = ProcessOutput(
            status: process.terminationStatus, stdout: "", stderr: try String(contentsOf: log, encoding: .utf8))
        #expect(out.status == 0, "\(out.stderr)")
        #expect(!out.stderr.contains(token))
        let lines = out.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(!lines.isEmpty, "\(out.stderr)")
        #expect(lines.count == out.stderr.split(separator: "\n").count, "\(out.stderr)")
        #expect(out.stderr.contains(#""message":"operator API listening""#))
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["message"] is String && object?["time"] is String, "\(line)")
        }
    }
}
