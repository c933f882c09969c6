/* Cleanup attributes, so every resource has an owner and every early return
 * releases it.  Ownership moves out with TAKE_PTR()/TAKE_FD(). */
#ifndef OSS_CLEANUP_H
#define OSS_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void oss_freep(void *p)
{
    free(*(void **)p);
}

static inline void oss_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno; /* close() must not clobber the error being returned */
        close(*fd);
        errno = saved;
    }
}

static inline void oss_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void oss_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

#define _cleanup_free_     __attribute__((cleanup(oss_freep)))
#define _cleanup_close_    __attribute__((cleanup(oss_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(oss_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(oss_closedirp)))

#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) _tp_ = (p);                                                                  \
        (p) = NULL;                                                                                \
        _tp_;                                                                                      \
    })

#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int _tf_ = (fd);                                                                           \
        (fd) = -1;                                                                                 \
        _tf_;                                                                                      \
    })

#define OSS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Retry a syscall expression while it fails with EINTR. */
#define OSS_RETRY_EINTR(expr)                                                                      \
    ({                                                                                             \
        long _r_;                                                                                  \
        do                                                                                         \
            _r_ = (long)(expr);                                                                    \
        while (_r_ == -1 && errno == EINTR);                                                       \
        _r_;                                                                                       \
    })

#endif
