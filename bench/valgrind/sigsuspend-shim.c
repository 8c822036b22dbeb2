/* LD_PRELOAD shim for running agentstate under valgrind 3.19 (bench/instructions).
 *
 * libdispatch calls sigsuspend() with a mask that lives in read-only memory. valgrind 3.19's
 * handling of rt_sigsuspend writes to the mask it is given, and without this shim agentstate
 * under valgrind dies at once: "VALGRIND INTERNAL ERROR: Valgrind received a signal 11 (SIGSEGV)"
 * at sigsuspend, called by _dispatch_sigsuspend. This sigsuspend copies the mask to the stack
 * and makes the system call itself.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy;
    memcpy(&copy, mask, sizeof copy);
    /* The kernel's sigset is _NSIG / 8 bytes (8 on Linux), not glibc's 128-byte sigset_t. */
    return (int)syscall(SYS_rt_sigsuspend, &copy, (size_t)(_NSIG / 8));
}
