/*
 * gdb_target.c - a program for tests/test_gdb.py to debug over --gdb:
 * a function to break in, a global to watch, a string to read, a second
 * thread, and an exit code to see.  `gdb_target spin` loops until gdb
 * interrupts it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

int watched = 41;
const char greeting[] = "hello from the board";
volatile int spin_forever = 1;

int add(int a, int b)
{
    int sum = a + b;
    return sum;
}

static void *worker(void *arg)
{
    int *out = arg;
    *out = add(20, 22);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "spin") == 0) {
        while (spin_forever)
            ;
        return 0;
    }
    int local = add(watched, 1);
    int from_thread = 0;
    pthread_t t;
    pthread_create(&t, NULL, worker, &from_thread);
    pthread_join(t, NULL);
    watched = local;
    printf("%s: local=%d thread=%d\n", greeting, local, from_thread);
    return 7;
}
