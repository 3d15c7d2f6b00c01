import VEMCore

/// The Client's clock is a ``VEMCore/Timeline``: ``VEMAgent/MonotonicClock`` in production, a
/// ``VEMCore/ManualTimeline`` (with a Unix origin) in tests, the demo's trace time in `vem demo`.
public typealias ClientClock = Timeline
