"""fs/notify/dnotify/dnotify.c: F_NOTIFY, directory change signals.

A directory file asks (fcntl F_NOTIFY) for a signal — SIGIO, or its
F_SETSIG signal with si_code POLL_MSG and si_fd — when a file in it is
read (DN_ACCESS), written (DN_MODIFY), created or moved in (DN_CREATE),
removed or moved out (DN_DELETE), renamed within it (DN_RENAME), or has
its attributes changed (DN_ATTRIB); without DN_MULTISHOT the request ends
with its first signal.  Requests of one open file and one files_struct
add up; F_NOTIFY 0 or any close of the file by that files_struct ends them.

Where the events come from: the board's files are the host's, and the
host kernel sees every change to them, whoever makes it — so the board
keeps one host inotify descriptor for all dnotify directories and reads
it at the exit of every system call while some directory is watched (a
syscall exit hook, kernel/syscalls/hooks.py: no cost otherwise).  A
guest's own create, write or rename is thereby signalled before the call
that made it returns, as in Linux, where fsnotify runs inside the call.
What this model misses: attribute changes the board keeps to itself
(kernel/fs/attr.py's guest owner and mode view when the host refuses a
chown), reads served from the board's page cache (no host read, no
IN_ACCESS), and the timing of changes made by host processes, which are
signalled at the board's next system call rather than at once.  Events the
board's own bookkeeping makes on the host (a write-back of a shared
mapping) are signalled as the host reports them.
"""

import errno
import os
import struct

from kernel.fs.hostcall import host_libc

# include/uapi/linux/fcntl.h
DN_ACCESS, DN_MODIFY, DN_CREATE, DN_DELETE = 0x1, 0x2, 0x4, 0x8
DN_RENAME, DN_ATTRIB, DN_MULTISHOT = 0x10, 0x20, 0x80000000
# include/linux/fsnotify_backend.h
FS_ACCESS, FS_MODIFY, FS_ATTRIB = 0x1, 0x2, 0x4
FS_MOVED_FROM, FS_MOVED_TO, FS_CREATE, FS_DELETE = 0x40, 0x80, 0x100, 0x200
FS_DN_RENAME, FS_DN_MULTISHOT, FS_EVENT_ON_CHILD = 0x10000000, 0x20000000, 0x08000000
# include/uapi/linux/inotify.h: the host events that are dnotify's
IN_ACCESS, IN_MODIFY, IN_ATTRIB = 0x1, 0x2, 0x4
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_IGNORED, IN_ONLYDIR, IN_NONBLOCK, IN_CLOEXEC = 0x8000, 0x01000000, 0o4000, 0o2000000
IN_WATCHED = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE \
    | IN_DELETE | IN_ONLYDIR
INOTIFY_EVENT = struct.Struct("<iIII")          # wd, mask, cookie, len; then the name


class DnotifyStruct:
    """struct dnotify_struct: one request on a directory."""

    __slots__ = ("dn_mask", "dn_fd", "dn_filp", "dn_owner")

    def __init__(self, mask, fd, filp, owner):
        self.dn_mask, self.dn_fd, self.dn_filp, self.dn_owner = mask, fd, filp, owner


class Dnotify:
    """The board's dnotify state: the host inotify descriptor, the marks
    (host watch descriptor -> its directory's requests, newest first) and
    the syscall exit hook that reads the events."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.host_fd = None
        self.marks = {}                 # wd -> [DnotifyStruct]
        self.hook = None

    def start(self):
        if self.host_fd is None:
            fd = host_libc().inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
            if fd < 0:
                return -errno.ENOMEM
            self.host_fd = fd
        if self.hook is None:
            from kernel.syscalls.hooks import ALL, add_hook
            self.hook = add_hook(self.kernel.syscalls, ALL,
                                 exit=lambda call: dnotify_read_events(self))
        return 0

    def stop_if_idle(self):
        """No directory watched any more: the hook goes (no cost again)."""
        if not self.marks and self.hook is not None:
            from kernel.syscalls.hooks import remove_hook
            remove_hook(self.kernel.syscalls, self.hook)
            self.hook = None


def _dnotify(kernel):
    dn = kernel.__dict__.get("dnotify")
    if dn is None:
        dn = kernel.dnotify = Dnotify(kernel)
    return dn


def convert_arg(arg):
    """convert_arg(): DN_* to the FS_* events they stand for (unknown bits
    are ignored, as 4.14 ignores them)."""
    mask = FS_EVENT_ON_CHILD
    for dn_bit, fs_bits in ((DN_MULTISHOT, FS_DN_MULTISHOT), (DN_DELETE, FS_DELETE | FS_MOVED_FROM),
                            (DN_MODIFY, FS_MODIFY), (DN_ACCESS, FS_ACCESS),
                            (DN_ATTRIB, FS_ATTRIB), (DN_RENAME, FS_DN_RENAME),
                            (DN_CREATE, FS_CREATE | FS_MOVED_TO)):
        if arg & dn_bit:
            mask |= fs_bits
    return mask


def fcntl_dirnotify(task, fd, file, arg):
    """fcntl_dirnotify(): a mask without events (DN_MULTISHOT aside) ends the
    file's requests, on any file; else ENOTDIR for a file that is not a
    directory; the caller becomes the file's owner if it has none
    (__f_setown(), not forced); a second request of the same file and
    files_struct adds its events to the first (attach_dn())."""
    from kernel.fs.fcntl import PIDTYPE_PID, f_modown
    arg &= 0xFFFFFFFF
    kernel = task.kernel
    if arg & ~DN_MULTISHOT == 0:
        dnotify_flush(file, task.files)
        return 0
    if not file.is_dir or file.host_fd is None:
        return -errno.ENOTDIR
    dn = _dnotify(kernel)
    err = dn.start()
    if err:
        return err
    wd = host_libc().inotify_add_watch(dn.host_fd, b"/proc/self/fd/%d" % file.host_fd, IN_WATCHED)
    if wd < 0:
        dn.stop_if_idle()
        return -errno.ENOMEM
    f_modown(task, file, task.pid, PIDTYPE_PID, False)
    mask = convert_arg(arg)
    entries = dn.marks.setdefault(wd, [])
    for odn in entries:
        if odn.dn_owner is task.files and odn.dn_filp is file:
            odn.dn_fd = fd
            odn.dn_mask |= mask
            return 0
    entries.insert(0, DnotifyStruct(mask, fd, file, task.files))
    return 0


def dnotify_flush(file, files):
    """dnotify_flush(): filp_close() (and F_NOTIFY 0) end the requests the
    files_struct made through file.  One dict test without dnotify."""
    dn = file.kernel.__dict__.get("dnotify")
    if dn is None or not dn.marks:
        return
    for wd, entries in list(dn.marks.items()):
        entries[:] = [d for d in entries if not (d.dn_owner is files and d.dn_filp is file)]
        if not entries:
            del dn.marks[wd]
            host_libc().inotify_rm_watch(dn.host_fd, wd)
    dn.stop_if_idle()


def _read_host_events(dn):
    """The host inotify events waiting: [(wd, mask, cookie)]."""
    events = []
    while True:
        try:
            buf = os.read(dn.host_fd, 1 << 16)
        except BlockingIOError:
            return events
        off = 0
        while off < len(buf):
            wd, mask, cookie, name_len = INOTIFY_EVENT.unpack_from(buf, off)
            events.append((wd, mask, cookie))
            off += INOTIFY_EVENT.size + name_len


def _fs_mask(mask, cookie, wd, events):
    """The fsnotify events of one host inotify event; a move out of a
    directory that moves in again under the same watch is a rename
    within it (fsnotify_move()'s FS_DN_RENAME)."""
    fs = mask & (FS_ACCESS | FS_MODIFY | FS_ATTRIB | FS_CREATE | FS_DELETE | FS_MOVED_TO)
    if mask & IN_MOVED_FROM:
        fs |= FS_MOVED_FROM
        if any(w == wd and m & IN_MOVED_TO and c == cookie for w, m, c in events):
            fs |= FS_DN_RENAME
    return fs


def dnotify_read_events(dn):
    """The exit hook: each event reaches its directory's requests, newest
    first (dnotify_handle_event()): send_sigio() with POLL_MSG to each
    whose mask it matches; a request without DN_MULTISHOT ends there."""
    if not dn.marks:
        return
    from kernel.fs.fcntl import POLL_MSG, file_owner, send_sigio
    events = _read_host_events(dn)
    for wd, mask, cookie in events:
        entries = dn.marks.get(wd)
        if entries is None:
            continue
        if mask & IN_IGNORED:               # the directory is gone
            del dn.marks[wd]
            continue
        test_mask = _fs_mask(mask, cookie, wd, events)
        for d in list(entries):
            if not d.dn_mask & test_mask:
                continue
            send_sigio(dn.kernel, file_owner(d.dn_filp), d.dn_fd, POLL_MSG)
            if not d.dn_mask & FS_DN_MULTISHOT:
                entries.remove(d)
        if not entries:
            del dn.marks[wd]
            host_libc().inotify_rm_watch(dn.host_fd, wd)
    dn.stop_if_idle()
