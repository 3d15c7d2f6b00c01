/// What the Manager may make this Client do: the command names it may run and, for `exec`, the
/// programs it may start.
///
/// Anything else is refused, whatever the request says. `exec` needs both `exec` in ``commands`` and
/// the program's path in ``programs``. Program paths are compared literally: they must be absolute,
/// without `.`/`..` components or repeated slashes, and equal to an entry — no prefix, glob or `PATH`
/// matching. An empty allowlist (the default) refuses everything.
public struct Allowlist: Hashable, Sendable, Codable {
    /// Allowed command names (`exec`, `get_property`, `reload`, `hypervisor.create`, …).
    public var commands: Set<String>
    /// Allowed absolute program paths for `exec`.
    public var programs: Set<String>

    /// Creates an allowlist.
    /// - Parameters:
    ///   - commands: Allowed command names.
    ///   - programs: Allowed absolute program paths for `exec`.
    public init(commands: Set<String> = [], programs: Set<String> = []) {
        self.commands = commands
        self.programs = programs
    }

    /// Checks a command against the allowlist.
    /// - Returns: nil when the command may run, else a `.notAllowed` error saying why not.
    public func check(_ request: CommandRequest) -> AgentError? {
        guard commands.contains(request.name) else {
            return AgentError(.notAllowed, "command '\(request.name)' is not in this client's allowlist")
        }
        if request.name == "exec" {
            guard let program = request.arguments.first else {
                return AgentError(.notAllowed, "exec without a program")
            }
            return checkProgram(program)
        }
        return nil
    }

    /// Checks a program path for `exec`.
    /// - Returns: nil when the program may run, else a `.notAllowed` error saying why not.
    public func checkProgram(_ path: String) -> AgentError? {
        guard path.hasPrefix("/") else {
            return AgentError(.notAllowed, "program '\(path)' is not an absolute path")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return AgentError(.notAllowed, "program path '\(path)' is not canonical")
        }
        guard programs.contains(path) else {
            return AgentError(.notAllowed, "program '\(path)' is not in this client's allowlist")
        }
        return nil
    }
}
