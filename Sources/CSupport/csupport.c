#include "csupport.h"

#include <errno.h>
#include <sys/ptrace.h>
#include <sys/un.h>
#include <sys/wait.h>

int snapctl_ptrace_probe(pid_t pid) {
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) return errno;
    int status = 0;
    if (waitpid(pid, &status, __WALL) < 0) {
        int saved = errno;
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return saved;
    }
    if (ptrace(PTRACE_DETACH, pid, 0, 0) != 0) return errno;
    return 0;
}

int snapctl_sun_path_size(void) {
    struct sockaddr_un address;
    return (int)sizeof(address.sun_path);
}
