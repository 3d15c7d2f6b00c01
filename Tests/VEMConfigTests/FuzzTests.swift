import Foundation
import Testing
import VEMConfig
import VEMCore

/// A small deterministic generator (SplitMix64), so that a failing input can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

/// Feeds random and mutated inputs to the reader and the loader: they must not crash or hang, and
/// a failed load must explain itself with an error located inside the input.
@Suite struct FuzzTests {
    static let tokens: [[UInt8]] = ["{", "}", "[", "]", "=", ":", "\n", "\r\n", "'", "\"", "'''", "#", ";", "  ",
        "\t", "[group:", "[command:", "expr = {", "ticks = ", "share = 90\n", "\\", "\u{FEFF}", "é"].map { Array($0.utf8) }
        + [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90], [0x00]]

    static func seeds() throws -> [[UInt8]] {
        var seeds = try ["paper.ini", "site.ini", "agent.ini"].map { try SourceTree.example($0).bytes }
        if let directory = GoldenTests.brokenDirectory {
            for name in GoldenTests.fixtureNames.prefix(12) {
                seeds.append(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
            }
        }
        return seeds
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + rng.below(6)) {
            let at = rng.below(bytes.count + 1)
            switch rng.below(7) {
            case 0 where !bytes.isEmpty:  // flip a byte
                bytes[min(at, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << rng.below(8))
            case 1:  // insert a token
                bytes.insert(contentsOf: tokens[rng.below(tokens.count)], at: at)
            case 2:  // truncate
                bytes.removeSubrange(at...)
            case 3 where !bytes.isEmpty:  // duplicate a slice
                let start = rng.below(bytes.count), end = min(bytes.count, start + rng.below(200))
                bytes.insert(contentsOf: bytes[start..<end], at: at)
            case 4 where !bytes.isEmpty:  // delete a slice
                let end = min(bytes.count, at + rng.below(20))
                bytes.removeSubrange(min(at, bytes.count)..<end)
            case 5:  // random byte
                bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            default:  // swap halves of lines: move a chunk elsewhere
                if bytes.count > 2 {
                    let cut = rng.below(bytes.count)
                    bytes = Array(bytes[cut...] + bytes[..<cut])
                }
            }
        }
        return bytes
    }

    static func randomInput(_ rng: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<rng.below(60) {
            if rng.below(3) == 0 {
                bytes.append(UInt8(truncatingIfNeeded: rng.next()))
            } else {
                bytes += tokens[rng.below(tokens.count)]
                if rng.below(2) == 0 { bytes += Array("key\(rng.below(5))".utf8) }
            }
        }
        return bytes
    }

    /// Checks one input; returns a failure description, or nil.
    static func check(_ bytes: [UInt8]) -> String? {
        let read = IniReader.read(bytes, file: "f.ini")
        let result = ConfigLoader.load([ConfigSource(name: "f.ini", bytes: bytes)])
        guard (result.configuration == nil) == result.hasErrors else { return "configuration/error mismatch" }
        if read.diagnostics.hasErrors, result.configuration != nil { return "reader error but loaded" }
        guard result.hasErrors else { return nil }
        let lines = read.text.split(separator: "\n", omittingEmptySubsequences: false)
        let inside = result.diagnostics.contains { d in
            d.severity == .error && d.location.file == "f.ini" && d.location.line >= 1 && d.location.line <= lines.count
                && d.location.column >= 1 && d.location.column <= lines[d.location.line - 1].unicodeScalars.count + 1
        }
        return inside ? nil : "no error located inside the input"
    }

    @Test func tenThousandRandomAndMutatedInputs() throws {
        let seeds = try Self.seeds()
        var rng = SplitMix64(seed: 0x5645_4D00)  // "VEM"
        var failures: [String] = []
        var failedLoads = 0
        let count = 10_000
        for i in 0..<count {
            let input = i % 4 == 3 ? Self.randomInput(&rng) : Self.mutate(seeds[rng.below(seeds.count)], &rng)
            if ConfigLoader.load([ConfigSource(name: "f.ini", bytes: input)]).hasErrors { failedLoads += 1 }
            if let failure = Self.check(input) {
                failures.append("#\(i): \(failure): \(String(decoding: input.prefix(300), as: UTF8.self).debugDescription)")
                if failures.count >= 5 { break }
            }
        }
        print("fuzz: \(failedLoads) of \(count) inputs failed to load")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // The mutations must reach both outcomes, or the test proves little.
        #expect(failedLoads > count / 4 && failedLoads < count - count / 100, "\(failedLoads) of \(count) failed")
    }

    @Test func hostileShapesTerminate() {
        let shapes: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "{"), count: 200_000),
            Array(repeating: UInt8(ascii: "["), count: 200_000),
            Array(repeating: 0xFF, count: 200_000),
            Array(String(repeating: "[a]\n", count: 20_000).utf8),
            Array(("[p]\ncommand = ram\n" + String(repeating: "k", count: 200_000) + " = 1\n").utf8),
            Array(("[" + String(repeating: "x", count: 200_000) + ":y]\nk=1\n").utf8),
            Array(("[t]\nexpr = {" + String(repeating: "'", count: 100_000) + "\n").utf8),
        ]
        for shape in shapes {
            #expect(Self.check(shape) == nil)
        }
    }
}
