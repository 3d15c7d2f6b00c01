/// Why a call of the operator API failed (``OperatorClient``); `vem`'s operator commands print it and exit 1.
public enum OperatorClientError: Error, Sendable, CustomStringConvertible {
    /// The base URL is not `http(s)://HOST:PORT`.
    case invalidURL(String)
    /// The Manager could not be reached at the base URL: why.
    case unreachable(url: String, reason: String)
    /// The Manager answered with an HTTP status other than 200, and this body.
    case status(Int, body: String)
    /// An `https://` URL without the operator's certificate.
    case certificateNeeded
    /// The answer at this URL could not be decoded: why.
    case unexpectedAnswer(url: String, reason: String)
    /// No Client, VM or group (`kind`) of this name at the URL; the names it knows, sorted.
    case unknownName(String, kind: String, url: String, known: [String])

    /// The message `vem` prints after `error: `.
    public var description: String {
        switch self {
        case .invalidURL(let url):
            "invalid --manager-url \(url): expected http://HOST:PORT (e.g. \(OperatorClient.defaultURL))"
        case .unreachable(let url, let reason): "cannot reach the Manager at \(url): \(reason)"
        case .status(let status, let body): "the Manager answered \(status): \(body)"
        case .certificateNeeded: "https:// needs the operator's certificate: --tls-ca, --tls-certificate, --tls-key"
        case .unexpectedAnswer(let url, let reason): "unexpected answer from the Manager at \(url): \(reason)"
        case .unknownName(let name, let kind, let url, let known):
            "no \(kind) named '\(name)' at \(url) (known: \(known.isEmpty ? "none" : known.prefix(20).joined(separator: ", ")))"
        }
    }
}
