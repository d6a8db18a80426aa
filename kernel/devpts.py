"""fs/devpts/inode.c: devpts_pty_new() — who owns a new pty's slave.

The board's ptys are the host's (kernel/tty.py): /dev/ptmx opens the
host's multiplexer and the slave /dev/pts/N is a node of the host's devpts.
The host makes that node with a53emu's own ids; in 4.14 it belongs to the
opener: the mount's uid=/gid= options if given (opts->setuid/setgid),
else current_fsuid()/current_fsgid().  The guest's view of the owner is
kept in the attribute overlay (kernel/fs/attr.py), so stat() of the slave
shows it and the guest's own permission check (a guest that dropped to
another uid opening its slave) uses it.  The mode is the host mount's
(mode=), as it is one devpts instance.
"""

import fcntl
import os
import struct

from kernel.fs.attr import record_owner

DEVPTS_DIR = "/dev/pts"


def devpts_mount_opts(st_dev):
    """The uid= and gid= options (None where absent) of the host's devpts
    mount whose device is st_dev, from the host's mountinfo."""
    wanted = "%d:%d" % (os.major(st_dev), os.minor(st_dev))
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None, None
    for line in lines:
        fields = line.split()
        if len(fields) < 3 or fields[2] != wanted or " - devpts " not in line:
            continue
        opts = dict(o.partition("=")[::2] for o in line.rsplit(" ", 1)[-1].split(","))
        uid, gid = opts.get("uid"), opts.get("gid")
        return (int(uid) if uid else None), (int(gid) if gid else None)
    return None, None


def devpts_pty_new(task, master_fd):
    """After an open of /dev/ptmx on host descriptor master_fd: the slave's
    owner in the guest's view is the opener's (see module docstring)."""
    from kernel.tty import INT_SIZE, TIOCGPTN
    try:
        index = struct.unpack("<I", fcntl.ioctl(master_fd, TIOCGPTN, bytes(INT_SIZE)))[0]
        st = os.stat("%s/%d" % (DEVPTS_DIR, index))
    except OSError:
        return                          # a master whose slave the host does not show
    uid, gid = devpts_mount_opts(st.st_dev)
    cred = task.cred
    record_owner(task.kernel, st, cred.fsuid if uid is None else uid,
                 cred.fsgid if gid is None else gid)
