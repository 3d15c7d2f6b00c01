#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

extension SlurmBatch {
    /// Resolves a node's name to its first IPv4 address (else IPv6) with `getaddrinfo`, so that Slurm gets a
    /// literal `NodeAddr` and never has to resolve the name itself.
    /// - Throws: ``SlurmError`` `.invalidArgument` when the name does not resolve.
    public static func resolveAddress(of name: String) throws -> String {
        try SlurmName.checkNodeName(name)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(name, nil, &hints, &list)
        guard rc == 0, let first = list else {
            throw SlurmError(
                .invalidArgument, "node '\(name)' has no address: its name does not resolve; give its address",
                cause: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var candidates: [(family: Int32, text: String)] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let info = p {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                info.pointee.ai_addr, info.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                candidates.append(
                    (
                        info.pointee.ai_family,
                        String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    ))
            }
            p = info.pointee.ai_next
        }
        guard let best = candidates.first(where: { $0.family == AF_INET }) ?? candidates.first else {
            throw SlurmError(.invalidArgument, "node '\(name)' has no usable address")
        }
        return best.text
    }
}
