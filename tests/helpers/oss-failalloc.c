/* liboss-failalloc.so: an LD_PRELOAD library that makes malloc, calloc,
 * realloc and friends fail with ENOMEM in one process while a trigger file
 * exists -- memory exhaustion on demand, at the moment a test chooses (the
 * shim after its child started).
 *
 *   OSS_FAILALLOC_FILE=/tmp/x LD_PRELOAD=.../liboss-failalloc.so cmd ...
 *
 * Only the process that loaded it first fails: the constructor records its
 * pid and removes both variables from the environment, so children (the
 * supervisor, hooks) neither inherit the library nor fail. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static char trigger[256];
static pid_t owner;

__attribute__((constructor)) static void failalloc_init(void)
{
    const char *f = getenv("OSS_FAILALLOC_FILE");
    if (f && strlen(f) < sizeof trigger) {
        memcpy(trigger, f, strlen(f) + 1);
        owner = getpid();
    }
    unsetenv("OSS_FAILALLOC_FILE");
    unsetenv("LD_PRELOAD");
}

static int failing(void)
{
    if (trigger[0] == '\0' || getpid() != owner)
        return 0;
    int saved = errno;
    int on = access(trigger, F_OK) == 0;
    errno = saved;
    if (on)
        errno = ENOMEM;
    return on;
}

void *malloc(size_t n)
{
    return failing() ? NULL : __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    return failing() ? NULL : __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    if (n != 0 && failing())
        return NULL;
    return __libc_realloc(p, n);
}

void *memalign(size_t al, size_t n)
{
    return failing() ? NULL : __libc_memalign(al, n);
}

void *aligned_alloc(size_t al, size_t n)
{
    return memalign(al, n);
}

int posix_memalign(void **ret, size_t al, size_t n)
{
    void *p = failing() ? NULL : __libc_memalign(al, n);
    if (p == NULL)
        return ENOMEM;
    *ret = p;
    return 0;
}

void free(void *p)
{
    __libc_free(p);
}
