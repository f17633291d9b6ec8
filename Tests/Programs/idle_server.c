/* An idle "server" for snapctl's integration tests: like mysqld at rest, every thread is blocked in a
 * system call, so vgdb has to force the gdbserver in with ptrace. It allocates from a few named
 * functions so detailed snapshots have a tree. SIGUSR1 makes it exit with the status given as argv[2];
 * SIGUSR2 makes it allocate 1 MiB more (a "step" that grows the heap). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2];
static volatile sig_atomic_t quit_requested = 0;
static volatile sig_atomic_t grow_requested = 0;

__attribute__((noinline)) static void *allocate_buffers(size_t size) {
    void *p = malloc(size);
    memset(p, 1, size);
    return p;
}

__attribute__((noinline)) static void *allocate_cache(size_t size) {
    return calloc(1, size);
}

static void *worker(void *arg) {
    (void)arg;
    char c;
    while (read(pipe_fds[0], &c, 1) < 0) {
    }
    return NULL;
}

static void on_quit(int sig) { (void)sig; quit_requested = 1; }
static void on_grow(int sig) { (void)sig; grow_requested = 1; }

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    int status = argc > 2 ? atoi(argv[2]) : 0;
    if (pipe(pipe_fds) != 0) return 99;
    signal(SIGUSR1, on_quit);
    signal(SIGUSR2, on_grow);
    void *keep1 = allocate_buffers(256 * 1024);
    void *keep2 = allocate_cache(64 * 1024);
    /* Workers block the signals the tests send, so they reach the main thread: a process-directed
     * signal taken by a worker would leave main in pause(), and a fatal one handled by a thread
     * blocked in a system call can hang Valgrind's exit. */
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, &old);
    pthread_t ids[64];
    if (threads > 64) threads = 64;
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, worker, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    while (!quit_requested) {
        pause();
        if (grow_requested) {
            grow_requested = 0;
            (void)allocate_buffers(1024 * 1024);
        }
    }
    (void)keep1;
    (void)keep2;
    exit(status);
}
