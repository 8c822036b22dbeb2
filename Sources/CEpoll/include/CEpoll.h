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
#endif
