import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A typed property value, as a property plugin reports it after conversion to its `return_type`: the one
/// ``VEMCore/StructuredValue`` (`json` return types and structured plugins produce nested lists and dicts; `null`
/// only appears inside them). It goes on the wire as it is.
public typealias PropertyValue = StructuredValue

/// What a property read produced: a typed value, or an error value that says why there is none.
///
/// A failure is an ordinary value: it is cached, compared and sent to the Manager like a value,
/// so that a trigger can see *why* a property is missing. Nothing in the Reader throws or crashes
/// because a file is malformed or a program printed garbage.
public enum PropertyResult: Hashable, Sendable, Codable {
    /// The property's value.
    case success(PropertyValue)
    /// Why there is no value.
    case failure(AgentError)

    /// The value, if this is a success.
    public var value: PropertyValue? {
        if case .success(let v) = self { return v }
        return nil
    }

    /// The error, if this is a failure.
    public var error: AgentError? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
