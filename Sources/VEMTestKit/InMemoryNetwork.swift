import Synchronization
import VEMBus
import VEMProtocol

/// The in-memory "wire": a serial trampoline of deliveries (whoever enqueues while nobody delivers becomes the
/// deliverer, so delivery never recurses and stays in FIFO order), with seeded faults.
final class InMemoryNetwork: Sendable {
    typealias Delivery = @Sendable () -> Void

    struct State {
        var queue: [Delivery] = []
        var head = 0
        var draining = false
        var delayed: [(remaining: Int, delivery: Delivery)] = []
        var random: SeededRandom
    }

    let faults: InMemoryBus.Faults
    private let state: Mutex<State>

    init(faults: InMemoryBus.Faults) {
        self.faults = faults
        state = Mutex(State(random: SeededRandom(seed: faults.seed)))
    }

    /// Enqueues the delivery of `message`, subject to faults.
    func send(_ message: Message, _ delivery: @escaping Delivery) {
        guard faults.isActive, faults.types.contains(message.type) else { return enqueue(delivery) }
        let fate: InMemoryBus.Fate = state.withLock { state in
            let roll = state.random.unit()
            if roll < faults.dropRate { return .drop }
            if roll < faults.dropRate + faults.duplicateRate { return .duplicate }
            if roll < faults.dropRate + faults.duplicateRate + faults.delayRate {
                return .delay(1 + Int(state.random.next() % UInt64(faults.maximumDelay)))
            }
            return .deliver
        }
        switch fate {
        case .deliver: enqueue(delivery)
        case .drop: return
        case .duplicate: enqueue([delivery, delivery])
        case .delay(let count):
            state.withLock { $0.delayed.append((count, delivery)) }
        }
    }

    /// Enqueues a delivery (not subject to faults) and delivers if nobody else is.
    func enqueue(_ delivery: @escaping Delivery) { enqueue([delivery]) }

    private func enqueue(_ deliveries: [Delivery]) {
        let mustDrain = state.withLock { state in
            state.queue.append(contentsOf: deliveries)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if mustDrain { drain() }
    }

    /// Releases every delayed message now.
    func releaseDelayed() {
        let released = state.withLock { state in
            let released = state.delayed.map(\.delivery)
            state.delayed.removeAll()
            return released
        }
        if !released.isEmpty { enqueue(released) }
    }

    private func drain() {
        while true {
            let next: Delivery? = state.withLock { state in
                guard state.head < state.queue.count else {
                    state.queue.removeAll(keepingCapacity: true)
                    state.head = 0
                    state.draining = false
                    return nil
                }
                let delivery = state.queue[state.head]
                state.head += 1
                if !state.delayed.isEmpty {
                    for i in state.delayed.indices { state.delayed[i].remaining -= 1 }
                    for item in state.delayed where item.remaining <= 0 { state.queue.append(item.delivery) }
                    state.delayed.removeAll { $0.remaining <= 0 }
                }
                return delivery
            }
            guard let next else { return }
            next()
        }
    }
}
