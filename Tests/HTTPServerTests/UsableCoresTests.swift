import CEpoll
import Glibc
@testable import HTTPServer
import Testing
import TestSupport

/// The default event-loop count: affinity mask, capped by a cgroup v2 CPU quota.
@Suite(.offCooperativePool) struct UsableCoresTests {
    @Test func aQuotaCapsTheAffinityRoundedUp() {
        #expect(UsableCores.count(affinity: 8, cpuMax: nil) == 8)
        #expect(UsableCores.count(affinity: 8, cpuMax: "max 100000\n") == 8)
        #expect(UsableCores.count(affinity: 8, cpuMax: "200000 100000\n") == 2)
        #expect(UsableCores.count(affinity: 8, cpuMax: "150000 100000") == 2, "1.5 cores round up")
        #expect(UsableCores.count(affinity: 8, cpuMax: "50000 100000") == 1)
        #expect(UsableCores.count(affinity: 2, cpuMax: "400000 100000") == 2, "the quota never adds cores")
        #expect(UsableCores.count(affinity: 0, cpuMax: "garbage") == 1)
    }

    @Test func theAffinityMaskIsCounted() async throws {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        // On a thread of its own, pinned to CPU 0: the mask then holds exactly one CPU.
        let (before, pinned) = try await onDedicatedThread { () -> (Int, Int) in
            let before = UsableCores.affinityCount()
            guard cepoll_pin_thread_to_cpu(0) == 0 else { return (before, -1) }
            return (before, UsableCores.affinityCount())
        }
        #expect(before >= 1 && before <= online)
        #expect(pinned == 1)
    }
}
