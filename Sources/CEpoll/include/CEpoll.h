#ifndef AGENTSTATE_CEPOLL_H
#define AGENTSTATE_CEPOLL_H
// Header-only shim: Glibc's Swift module does not export epoll or eventfd.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>

/// EPOLLET and friends are enum constants with unsigned values; expose them as plain uint32_t.
static inline uint32_t cepoll_in(void) { return EPOLLIN; }
static inline uint32_t cepoll_out(void) { return EPOLLOUT; }
static inline uint32_t cepoll_err(void) { return EPOLLERR; }
static inline uint32_t cepoll_hup(void) { return EPOLLHUP; }
static inline uint32_t cepoll_rdhup(void) { return EPOLLRDHUP; }
static inline uint32_t cepoll_et(void) { return EPOLLET; }
static inline uint32_t cepoll_oneshot(void) { return EPOLLONESHOT; }

/// accept4(2) without needing _GNU_SOURCE in the importing module: SOCK_NONBLOCK/SOCK_CLOEXEC in one call.
static inline int cepoll_accept4(int fd, int flags) { return (int)syscall(SYS_accept4, fd, (void *)0, (void *)0, flags); }
/// The number of CPUs in the calling thread's affinity mask (sched_getaffinity(2) as a raw syscall, so no
/// _GNU_SOURCE is needed), or -1 when it cannot be read.
static inline int cepoll_affinity_count(void) {
    unsigned long mask[64] = {0};
    long size = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    if (size <= 0) return -1;
    int count = 0;
    for (long i = 0; i < size / (long)sizeof(unsigned long); i++) count += __builtin_popcountl(mask[i]);
    return count;
}

/// Names the calling thread for the kernel (at most 15 bytes are kept): `ps -L`, /proc/<pid>/task/*/comm.
static inline void cepoll_set_thread_name(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

/// The calling thread's kernel name into `buffer` (at least 16 bytes, NUL-terminated).
static inline void cepoll_get_thread_name(char *buffer) { prctl(PR_GET_NAME, (unsigned long)buffer, 0, 0, 0); }

/// Pins the calling thread to one CPU (tests check ``cepoll_affinity_count`` with it); 0 on success.
static inline int cepoll_pin_thread_to_cpu(int cpu) {
    unsigned long mask[64] = {0};
    if (cpu < 0 || cpu >= (int)(sizeof(mask) * 8)) return -1;
    mask[cpu / (8 * sizeof(unsigned long))] = 1UL << (cpu % (8 * sizeof(unsigned long)));
    return (int)syscall(SYS_sched_setaffinity, 0, sizeof(mask), mask);
}
#endif
