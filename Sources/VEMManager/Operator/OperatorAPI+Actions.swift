import Foundation
import VEMPool

extension OperatorAPI {
    /// The action routes (`POST`): `/v1/pause`, `/v1/resume`, `/v1/hosts/drain?host=`, `/v1/hosts/resume?host=`,
    /// `/v1/vms/drain?vm=`, `/v1/vms/destroy?vm=`, `/v1/vms/forget?vm=`, `/v1/reload`.
    public static let actionRoutes = [
        "/v1/pause", "/v1/resume", "/v1/hosts/drain", "/v1/hosts/resume", "/v1/vms/drain", "/v1/vms/destroy",
        "/v1/vms/forget", "/v1/reload",
    ]

    /// The action a `POST path?query` asks for, or why it is not one.
    static func action(_ path: String, query: [String: String]) -> Result<OperatorAction, ActionError> {
        func named(_ key: String, _ make: (String) -> OperatorAction) -> Result<OperatorAction, ActionError> {
            guard let value = query[key], !value.isEmpty else {
                return .failure(ActionError(status: 400, message: "\(path) needs ?\(key)=NAME"))
            }
            return .success(make(value))
        }
        switch path {
        case "/v1/pause": return .success(.pause)
        case "/v1/resume": return .success(.resume)
        case "/v1/hosts/drain": return named("host", OperatorAction.drainHost)
        case "/v1/hosts/resume": return named("host", OperatorAction.resumeHost)
        case "/v1/vms/drain": return named("vm", OperatorAction.drainVM)
        case "/v1/vms/destroy": return named("vm", OperatorAction.destroyVM)
        case "/v1/vms/forget": return named("vm", OperatorAction.forgetVM)
        default:
            return .failure(
                ActionError(
                    status: 404,
                    message: "no such action \(path); try \(Self.actionRoutes.joined(separator: ", "))"))
        }
    }

    /// Why a `POST` is not an action.
    struct ActionError: Error {
        var status: Int
        var message: String
    }

    /// Answers `POST path?query` from `operatorName` (`alice@127.0.0.1`): 200 with the
    /// ``Manager/ActionReport`` when carried out, 409 with it when refused, 400/404 for a request that names no
    /// action.
    public func post(_ path: String, query: [String: String] = [:], operatorName: String) async -> Response {
        do {
            if path == "/v1/reload" {
                let report = await manager.reload(by: operatorName)
                return try encode(report, status: report.accepted ? 200 : 409)
            }
            switch Self.action(path, query: query) {
            case .failure(let e): return try encode(["error": e.message], status: e.status)
            case .success(let action):
                let report = await manager.perform(action, by: operatorName)
                return try encode(report, status: report.accepted ? 200 : 409)
            }
        } catch {
            return Response(status: 500, body: Data(#"{"error":"encoding failed"}"#.utf8))
        }
    }

    /// The operator's name for the journal: the user the request claims (`X-VEM-User`, what `vem` sends: the
    /// login name) at the address it came from — `operator` when it claims none. Not authenticated: the API
    /// serves loopback only until operator certificates exist.
    public static func operatorName(user: String?, address: String?) -> String {
        let cleaned = (user ?? "").unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)
        }
        let name = cleaned.isEmpty ? "operator" : String(String.UnicodeScalarView(cleaned.prefix(32)))
        return "\(name)@\(address ?? "unknown")"
    }
}
