"""kernel/sched/wait.c: wait queues, and how a system call goes to sleep.

Linux sleeps inside the system call: the task's kernel stack keeps its
place while other tasks run.  Our kernel is Python called from a Unicorn
hook, so a sleeping call cannot keep a stack frame.  Instead it raises
WouldBlock: the entry code rewinds the pc to the SVC instruction and takes
the task off the core.  When the task is woken it executes the SVC again,
with the same registers, exactly as Linux re-executes a call that returned
-ERESTARTSYS.  What the first attempt achieved (bytes already written, the
futex it queued on, the deadline of a sleep) is kept in `task.restart`,
which lives until the call returns or a signal handler runs.
"""

# How a sleeping call answers a signal (include/linux/errno.h).
ERESTARTSYS = 512               # restart if the handler has SA_RESTART, else -EINTR
ERESTARTNOINTR = 513            # always restart
ERESTARTNOHAND = 514            # restart only if no handler runs
ERESTART_RESTARTBLOCK = 516     # -EINTR for a handler, else resume with task.restart

RESTART_CODES = (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK)
RESTART_NAMES = {ERESTARTSYS: "ERESTARTSYS", ERESTARTNOINTR: "ERESTARTNOINTR",
                 ERESTARTNOHAND: "ERESTARTNOHAND",
                 ERESTART_RESTARTBLOCK: "ERESTART_RESTARTBLOCK"}


class WouldBlock(Exception):
    """Raised by a system call that must sleep.

    queues: WaitQueues whose wake_up() ends the sleep; fds: (host fd, poll
    events) pairs whose readiness ends it (external: some of them are not
    only the board's, e.g. a terminal, so the host may make them ready); deadline: kernel clock time at
    which it ends anyway (None: never); restart: one of the ERESTART*
    codes, what a signal arriving meanwhile does to the call.
    """

    def __init__(self, queues=(), fds=(), deadline=None, restart=ERESTARTSYS,
                 interruptible=True, cancel=None, external=True, excl=()):
        super().__init__()
        self.queues = queues
        self.excl = excl                        # HostWaitQueues joined exclusively (epoll)
        self.fds = fds
        self.external = external and bool(fds)  # can the host make an fd ready?
        self.deadline = deadline
        self.restart = restart
        self.interruptible = interruptible      # False: signals wait (vfork)
        self.cancel = cancel                    # undo the queuing if a signal ends it


class WaitQueue:
    """wait_queue_head_t: the tasks sleeping until something happens."""

    __slots__ = ("tasks", "name", "exclusive")

    def __init__(self, name=""):
        self.tasks = []
        self.name = name
        self.exclusive = None           # the WQ_FLAG_EXCLUSIVE sleepers, if any

    def add(self, task):
        """add_wait_queue(): task sleeps here until woken."""
        if task not in self.tasks:
            self.tasks.append(task)
        task.wait_queues.append(self)

    def add_exclusive(self, task):
        """add_wait_queue_exclusive(): at the tail, and a wake-up wakes only
        the first of the exclusive sleepers (an epoll_wait() on an
        EPOLLEXCLUSIVE item: kernel/fs/eventpoll.py)."""
        if task not in self.tasks:
            self.tasks.append(task)
        if self.exclusive is None:
            self.exclusive = set()
        self.exclusive.add(task)
        task.wait_queues.append(self)

    def remove(self, task):
        """remove_wait_queue()."""
        if task in self.tasks:
            self.tasks.remove(task)
        if self.exclusive:
            self.exclusive.discard(task)

    def wake_up(self, nr=0):
        """wake_up() / wake_up_nr(): make the first nr sleepers (all if 0)
        runnable; returns how many were woken."""
        woken = 0
        exclusive_woken = False
        for task in list(self.tasks):
            if nr and woken >= nr:
                break
            if self.exclusive and task in self.exclusive:
                # __wake_up_common(nr_exclusive = 1): the first exclusive
                # sleeper only; the non-exclusive ones all wake.
                if exclusive_woken:
                    continue
                exclusive_woken = True
            task.kernel.sched.wake_up_process(task)
            woken += 1
        return woken

    def __len__(self):
        return len(self.tasks)

    def __repr__(self):
        return "<waitqueue %s: %s>" % (self.name, [t.pid for t in self.tasks])


class ExclusiveWait:
    """A wait queue in WouldBlock.queues that the sleeper joins exclusively."""

    __slots__ = ("queue",)

    def __init__(self, queue):
        self.queue = queue

    def add(self, task):
        self.queue.add_exclusive(task)
