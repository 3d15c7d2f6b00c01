import ArgumentParser
import Foundation
import VEMCore
import VEMManager

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Options shared by the operator's commands: where the Manager's API is, and JSON output.
struct ManagerAPIOptions: ParsableArguments {
    @Option(help: "The Manager's operator API (default: $VEM_MANAGER_URL, else http://127.0.0.1:7480).")
    var managerURL: String?

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    var baseURL: String {
        let url = managerURL ?? ProcessInfo.processInfo.environment["VEM_MANAGER_URL"] ?? "http://127.0.0.1:7480"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// GETs a path; exits 1 with a clear message when the Manager cannot be reached or answers an error.
    func get(_ path: String) async throws -> Data {
        guard let url = URL(string: baseURL + path) else {
            printError("error: invalid --manager-url \(baseURL)")
            throw ExitCode.failure
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = 10
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            printError("error: cannot reach the Manager at \(baseURL): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            printError("error: the Manager answered \(http.statusCode): \(String(decoding: data, as: UTF8.self))")
            throw ExitCode.failure
        }
        return data
    }

    /// GETs and decodes, or prints the raw JSON with `--json` (returns nil then).
    func fetch<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T? {
        let data = try await get(path)
        if json {
            print(String(decoding: data, as: UTF8.self))
            return nil
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            printError("error: unexpected answer from the Manager at \(baseURL)\(path): \(error)")
            throw ExitCode.failure
        }
    }
}

/// `2026-11-29 08:50:04` (UTC) for a time in seconds since 1970.
func formatTime(_ seconds: Double?) -> String {
    guard let seconds else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}

/// `12s`, `3m4s` for an age in seconds.
func formatAge(_ seconds: Double) -> String {
    seconds < 10
        ? formatDuration(.milliseconds(Int64((seconds * 1000).rounded())))
        : formatDuration(.seconds(Int64(seconds.rounded())))
}
