import Testing

@testable import VEMBench

@Suite("vem bench agent: the resident set by mapping")
struct AgentBenchTests {
    @Test("files by name, anonymous memory and the heap together, largest first, empty ones left out")
    func residentByMapping() {
        let smaps = """
            55d0a0000000-55d0a1000000 r-xp 00000000 fe:00 6016961                    /usr/local/bin/vem-agent
            Size:              16384 kB
            Rss:                5120 kB
            55d0a1000000-55d0a1100000 rw-p 01000000 fe:00 6016961                    /usr/local/bin/vem-agent
            Rss:                 512 kB
            55d0a2000000-55d0a2100000 rw-p 00000000 00:00 0                          [heap]
            Rss:                 300 kB
            7f0000000000-7f0000100000 rw-p 00000000 00:00 0
            Rss:                 700 kB
            7f0000200000-7f0000300000 r-xp 00000000 fe:00 12                         /usr/lib/x86_64-linux-gnu/libc.so.6
            Rss:                1200 kB
            7f0000400000-7f0000401000 r--p 00000000 00:00 0                          [vvar]
            Rss:                   0 kB
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
            Rss:                  32 kB
            """
        let rows = AgentBench.residentByMapping(smaps)
        #expect(rows.map(\.name) == ["vem-agent", "libc.so.6", "[anon]", "[stack]"])
        #expect(rows.map(\.kib) == [5632, 1200, 1000, 32])
        #expect(AgentBench.residentByMapping("").isEmpty)
    }
}
