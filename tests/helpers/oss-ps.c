/* oss-ps: list the processes this process can see, one line each:
 *
 *   pid=<pid> ppid=<ppid> pgid=<pgid> state=<S> comm=<comm>
 *
 * Read from /proc/<pid>/stat.  Static and tiny, so `runsc exec` can run it in
 * any sandbox (gVisor processes are invisible to the host's /proc) to count
 * zombies or find the process tree.  `--zombies` prints only the number of
 * processes in state Z.  Exit 125 on bad usage, 1 if /proc cannot be read. */
#include "helper.h"

#include <dirent.h>

static bool read_stat(const char *pid, struct helper_proc *ret)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false; /* gone meanwhile */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return helper_parse_stat(buf, ret);
}

int main(int argc, char **argv)
{
    bool zombies_only = false;
    if (argc == 2 && strcmp(argv[1], "--zombies") == 0) {
        zombies_only = true;
    } else if (argc != 1) {
        fprintf(stderr, "usage: oss-ps [--zombies]\n");
        return HELPER_EXIT_USAGE;
    }
    DIR *d = opendir("/proc");
    if (!d) {
        fprintf(stderr, "oss-ps: /proc: %s\n", strerror(errno));
        return 1;
    }
    long zombies = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        struct helper_proc p;
        if (!read_stat(e->d_name, &p))
            continue;
        if (p.state == 'Z')
            zombies++;
        if (!zombies_only)
            printf("pid=%ld ppid=%ld pgid=%ld state=%c comm=%s\n", p.pid, p.ppid, p.pgid, p.state,
                   p.comm);
    }
    closedir(d);
    if (zombies_only)
        printf("%ld\n", zombies);
    return 0;
}
