/// The previous sample of each counter a stateful plugin watches, keyed by property and counter.
actor CounterMemory<Sample: Sendable> {
    private var samples: [String: Sample] = [:]

    /// Stores `sample` under `key` and returns the one it replaces.
    func exchange(_ key: String, _ sample: Sample) -> Sample? {
        let old = samples[key]
        samples[key] = sample
        return old
    }
}
