#ifndef SNAPCTL_CSUPPORT_H
#define SNAPCTL_CSUPPORT_H

#include <sys/types.h>

/// Attaches to `pid` with PTRACE_ATTACH, waits for it to stop and detaches again.
/// Returns 0 on success, or the errno of the failing call. ptrace(2) is variadic, which Swift cannot call.
int snapctl_ptrace_probe(pid_t pid);

/// The size of sockaddr_un.sun_path on this system, the limit on a unix socket path.
int snapctl_sun_path_size(void);

#endif
