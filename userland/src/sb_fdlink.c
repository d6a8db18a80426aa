/*
 * sb_fdlink.c - readlink("/proc/self/fd/0") of the descriptor the program
 * inherited as stdin: the test names what it expects in argv[1] (a name
 * ending in ':' is a prefix, for pipe:[N]).  Self-checking; built for the
 * host too.
 */
#include "common.h"

int main(int argc, char **argv)
{
    char name[4096];
    ssize_t n = readlink("/proc/self/fd/0", name, sizeof name - 1);
    if (argc < 2 || n < 0)
        return printf("FAILED: usage or readlink: %s\n", errno_name(errno)), 1;
    name[n] = 0;
    size_t want = strlen(argv[1]);
    int prefix = want && argv[1][want - 1] == ':';
    CHECK(prefix ? !strncmp(name, argv[1], want) : !strcmp(name, argv[1]),
          "/proc/self/fd/0 -> %s (want %s)", name, argv[1]);
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
