"""ipc/mqueue.c: POSIX message queues (not yet: the calls return -ENOSYS)."""
