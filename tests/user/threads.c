/* pthreads: mutex, condition variable, atomics, join values; pselect with a
   signal mask; the main thread exiting before another. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static long atomic_counter;
static int ready;

static void *worker(void *arg)
{
    long id = (long)arg;
    pthread_mutex_lock(&lock);
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_SEQ_CST);
    }
    return (void *)(id * 10);
}

static void *late(void *arg)
{
    usleep(100000);
    printf("late worker %ld done after main exited\n", (long)arg);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        total += (long)ret;
    }
    printf("counter %ld atomic %ld joined %ld\n", counter, atomic_counter, total);
    struct timespec ts = {0, 1000000};
    sigset_t mask;
    sigemptyset(&mask);
    printf("pselect timeout %d\n", pselect(0, NULL, NULL, NULL, &ts, &mask));
    fflush(stdout);
    pthread_create(&t[0], NULL, late, (void *)7);
    pthread_exit(NULL);
}
