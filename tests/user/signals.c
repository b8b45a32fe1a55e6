/* Signal handlers: raise, kill, masks, alarm, and a SIGSEGV handler that recovers. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static sigjmp_buf recover;
static void *fault_addr;

static void on_usr1(int sig) { got = sig; }

static char altstack[65536];
static volatile int on_altstack;

static void on_usr2(int sig)
{
    char here;
    got = sig;
    on_altstack = &here >= altstack && &here < altstack + sizeof altstack;
}

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    fault_addr = info->si_addr;
    siglongjmp(recover, sig);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("raise: got %d\n", got);
    got = 0;
    kill(getpid(), SIGUSR1);
    printf("kill: got %d\n", got);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    got = 0;
    raise(SIGUSR1);
    printf("blocked: got %d\n", got);
    sigpending(&set);
    printf("pending: %d\n", sigismember(&set, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: got %d\n", got);
    signal(SIGALRM, on_usr1);
    got = 0;
    alarm(1);
    pause();
    printf("alarm: got %d\n", got);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    printf("sigaltstack: got %d on the alternate stack %d\n", got, on_altstack);

    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    volatile int *bad = (int *)0x100;
    int sig = sigsetjmp(recover, 1);
    if (sig == 0) {
        *bad = 1;
        printf("not reached\n");
    }
    printf("recovered from signal %d at %p\n", sig, fault_addr);
    char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sig = sigsetjmp(recover, 1);
    if (sig == 0)
        page[8] = 1;
    printf("write to read-only page: signal %d, offset %ld\n", sig, (long)((char *)fault_addr - page));
    signal(SIGTERM, SIG_DFL);
    fflush(stdout);
    raise(SIGTERM);
    return 0;
}
