/*
 * sb_nonblock_tty.c - O_NONBLOCK on stdin (a terminal nobody types at, or
 * an empty pipe whose writer stays open):
 * set with F_SETFL, a read is EAGAIN and F_GETFL shows the flag; cleared
 * with FIONBIO, F_GETFL no longer shows it.  Set again at exit (the test
 * checks a53emu's own descriptor is unchanged afterwards).  Self-checking;
 * built for the host too.
 */
#include "common.h"
#include <sys/ioctl.h>

int main(void)
{
    char c;
    int fl = fcntl(0, F_GETFL), on = 0;
    CHECK(fcntl(0, F_SETFL, fl | O_NONBLOCK) == 0, "F_SETFL O_NONBLOCK");
    CHECK(fcntl(0, F_GETFL) & O_NONBLOCK, "F_GETFL shows O_NONBLOCK");
    errno = 0;
    CHECK(read(0, &c, 1) < 0 && errno == EAGAIN, "a read of an empty terminal: %s", errno_name(errno));
    CHECK(ioctl(0, FIONBIO, &on) == 0 && !(fcntl(0, F_GETFL) & O_NONBLOCK), "FIONBIO 0 clears it");
    on = 1;
    CHECK(ioctl(0, FIONBIO, &on) == 0 && (fcntl(0, F_GETFL) & O_NONBLOCK), "FIONBIO 1 sets it");
    errno = 0;
    CHECK(read(0, &c, 1) < 0 && errno == EAGAIN, "read again: %s", errno_name(errno));
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
