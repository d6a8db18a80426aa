/*
 * cores.c - which cores do threads run on?
 *
 * Two threads spin together for a while, each asking getcpu() which core
 * it is on; the program prints the set of cores seen.  On a53emu's board
 * (2 cores by default) both cores must show up: the scheduler hands the
 * second thread to the second core.  The answer depends on the machine,
 * so this program is for the board's tests, not compared with the host.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int running = 2;
static unsigned long seen[2];

static void *spin(void *arg)
{
    long me = (long)arg;
    __atomic_sub_fetch(&running, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&running, __ATOMIC_SEQ_CST) > 0)
        ;                                   /* start together */
    for (int i = 0; i < 200000; i++) {
        unsigned cpu = 0;
        if (i % 1000 == 0) {
            syscall(SYS_getcpu, &cpu, NULL, NULL);
            seen[me] |= 1UL << cpu;
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, spin, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    unsigned long all = seen[0] | seen[1];
    printf("cores seen:");
    for (int c = 0; c < 64; c++)
        if (all >> c & 1)
            printf(" %d", c);
    printf("\n");
    return 0;
}
