/* A signal from outside while the main thread waits in pthread_join and
   another thread spins until the handler has run (run by the test, which
   sends SIGUSR1 once "ready" is printed). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig) { got = sig; }

static void *spin(void *arg)
{
    (void)arg;
    while (!got)
        ;
    return NULL;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    printf("ready\n");
    fflush(stdout);
    pthread_join(t, NULL);
    printf("got %d\n", got);
    return 0;
}
