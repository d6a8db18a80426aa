"""fs/anon_inodes.c: files with no name in any filesystem (eventfd, epoll,
signalfd; inotify is one too, but its body is the host's: kernel/fs/inotify.py).

Linux gives them all one shared inode of the anon_inodefs, mode 0600 with
no file-type bits, and a dentry name "[eventfd]" etc. that /proc/PID/fd
shows as "anon_inode:[eventfd]".  Their operations are the board's own
(no host descriptor); a kind subclasses AnonFile and provides, as its
file_operations, some of:

    read(task, buf, count)   -> bytes count or -errno   (copies to the user itself)
    write(task, buf, count)  -> bytes count or -errno
    poll(pt)                 -> ready mask (kernel/fs/poll.py)
    release()                   the last reference is gone
"""

import stat

from kernel.fs.file import File
from kernel.fs.poll import ALL_EVENTS
from kernel.fs.stat import SyntheticStat
from kernel.sched.wait import WaitQueue
from kernel.uapi import O_RDWR

# The anon_inodefs inode (alloc_anon_inode(): i_mode = S_IRUSR | S_IWUSR,
# no S_IFMT bits) and its number; every anon file shares it.
ANON_INODE_MODE = stat.S_IRUSR | stat.S_IWUSR
ANON_INODE_INO = 1


class AnonFile(File):
    """anon_inode_getfile(): a struct file on the anon inode named [name]."""

    def __init__(self, kernel, name, flags=O_RDWR):
        super().__init__(kernel, None, "anon_inode:[%s]" % name, flags, mode=ANON_INODE_MODE)
        self.d_name = "anon_inode:[%s]" % name      # what /proc/PID/fd/N links to
        self.wqh = WaitQueue(name)                  # ctx->wqh
        self.poll_seq = 0                           # wake-ups, for edge-triggered epoll
        self.key_seq = {}                           # poll bit -> seq of its last wake-up

    def wake_up(self, key=0):
        """wake_up_locked_poll(&wqh, key): the state changed; pollers look
        again.  key: the poll bits the change concerns (0: any), which
        ep_poll_callback() compares with an epoll item's events."""
        self.poll_seq += 1
        bit = 1
        while bit <= (key or ALL_EVENTS):
            if not key or key & bit:
                self.key_seq[bit] = self.poll_seq
            bit <<= 1
        self.wqh.wake_up()

    def wake_seq(self, events):
        """The seq of the last wake-up whose key meets events (0: none yet)."""
        return max((seq for bit, seq in self.key_seq.items() if events & bit), default=0)

    def getattr(self):
        """The anon inode's stat."""
        return SyntheticStat(0, mode=ANON_INODE_MODE, ino=ANON_INODE_INO)

    def release(self):
        """->release(): nothing to free by default."""

    def put(self):
        super().put()
        if self.refcount == 0:
            self.release()
