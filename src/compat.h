#ifndef COMPAT_H
#define COMPAT_H

/*
 * The few calls that differ between Linux and macOS, in one place. Code
 * elsewhere uses the Linux (glibc) names; this maps them where needed.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#ifdef __APPLE__
/* struct stat's nanosecond times have other names on macOS. */
#define st_atim st_atimespec
#define st_mtim st_mtimespec
/* Not in every macOS SDK. */
#define strchrnul sand_strchrnul
char *sand_strchrnul(const char *s, int c);
#endif

/* pipe2(fds, O_CLOEXEC): a pipe whose ends do not leak into children. */
int pipe_cloexec(int fds[2]);

/* Fill buf with len random bytes from the kernel; 0 or -1 (errno). */
int random_bytes(void *buf, size_t len);

/*
 * A stable identifier of this machine: /etc/machine-id on Linux, the
 * hardware UUID on macOS, else the host name. Appended to out.
 */
struct strbuf;
void machine_id(struct strbuf *out);

/* Close *fd if it is open (>= 0), and mark it closed (-1). */
void close_fd(int *fd);

/* write(2) all of buf, retrying after EINTR and short writes; 0 or -1. */
int write_in_full(int fd, const void *buf, size_t len);

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and durations. */
uint64_t monotonic_ms(void);

#endif
