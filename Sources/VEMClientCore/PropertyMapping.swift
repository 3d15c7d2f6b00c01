import VEMAgent
import VEMConfig
import VEMCore
import VEMProtocol

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// How the configuration's properties become the Reader's requests, and samples become wire readings.
public enum PropertyMapping {
    /// The Reader's request for a configured property.
    ///
    /// `parameters` is split on commas and trimmed (`/scratch, free` → `["/scratch", "free"]`; the `file` plugin
    /// joins a regex's commas back); `return_type` maps one to one.
    /// - Parameters:
    ///   - definition: The configured property.
    ///   - timeout: How long one read may take.
    public static func request(
        for definition: VEMConfig.PropertyDefinition, timeout: Duration
    ) -> PropertyRequest {
        PropertyRequest(
            name: definition.name, plugin: definition.command, parameters: parameters(definition.parameters),
            returnType: definition.returnType, timeout: timeout)
    }

    /// The parameter list of a `parameters = …` value: split on commas, trimmed; empty text gives none.
    public static func parameters(_ text: String) -> [String] {
        let trimmed = text.trimmingWhitespace(newlines: false)
        guard !trimmed.isEmpty else { return [] }
        return trimmed.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingWhitespace(newlines: false)
        }
    }

    /// A sample as a wire reading, its timestamp converted to Unix milliseconds by the clock.
    public static func reading(_ sample: PropertySample, clock: any ClientClock) -> PropertyReading {
        let outcome: PropertyReading.Outcome =
            switch sample.result {
            case .success(let value): .value(value)  // the same value: lists and dicts travel as they are
            case .failure(let error): .error(error.description)
            }
        return PropertyReading(
            name: sample.name, timestampMilliseconds: unixMilliseconds(clock.unixTime(at: sample.timestamp)),
            outcome: outcome)
    }

    /// Unix seconds as whole milliseconds (0 for negative or non-finite times).
    public static func unixMilliseconds(_ seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64(min(seconds * 1000, 1.8e19).rounded())
    }
}
