import CEpoll
import Glibc
import Telemetry

/// How many cores this process may run on: the CPUs in its affinity mask (`taskset`, a cpuset), capped by
/// a cgroup v2 CPU quota (`cpu.max`, what a container's CPU limit sets), rounded up, and at least 1.
/// The default number of event loops, since each loop runs its requests itself.
public enum UsableCores {
    /// The count for this process now.
    public static var count: Int {
        count(affinity: affinityCount(), cpuMax: ProcessStat.readFile("/sys/fs/cgroup/cpu.max"))
    }

    /// Combines an affinity count with the text of a cgroup v2 `cpu.max` file ("max 100000", or
    /// "<quota> <period>" in microseconds), when there is one.
    public static func count(affinity: Int, cpuMax: String?) -> Int {
        var cores = max(1, affinity)
        if let cpuMax {
            let fields = cpuMax.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 {
                cores = min(cores, (quota + period - 1) / period)
            }
        }
        return max(1, cores)
    }

    /// CPUs in the calling thread's affinity mask, or the online CPUs when it cannot be read.
    static func affinityCount() -> Int {
        let count = Int(cepoll_affinity_count())
        return count > 0 ? count : Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
