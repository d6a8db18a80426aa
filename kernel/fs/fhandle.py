"""fs/fhandle.c: name_to_handle_at() and open_by_handle_at().

A file handle names a file by what its file system exports (NFS-style
export operations: ext4's is the inode number and generation,
FILEID_INO32_GEN).  The board's files are host files, so a handle is the
host file system's own, made by the host's name_to_handle_at() on the file
the board looked up.  open_by_handle_at() opens only handles the board
issued (Kernel.fhandles): the host's would open any file of that file
system by number, outside every path the guest can name (a --jail or
chroot() root, search permission on the way), and a forged handle is
what exportfs_decode_fh() could not find, ESTALE.  A handle outlives the
open files and names it was made from, as on Linux; a file deleted since
is ESTALE.  /proc and /sys are the board's own and have no export
operations in 4.14: EOPNOTSUPP.  The board's /dev/shm is a host tmpfs
directory, and 4.14's tmpfs exports handles too (shmem_export_ops).
"""

import ctypes
import errno
import os
import stat
import struct

from kernel.cred import CAP_DAC_READ_SEARCH, capable
from kernel.fs.attr import guest_stat
from kernel.fs.hostcall import host_libc
from kernel.fs.namei import host_d_path, host_path, path_call, user_path
from kernel.fs.open import build_open_flags, fdget_raw
from kernel.syscalls.table import syscall
from kernel.uapi import (
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW, O_CLOEXEC, O_NOFOLLOW, O_PATH,
)
from kernel.uaccess import s32

MAX_HANDLE_SZ = 128
_FILE_HANDLE_HEAD = struct.Struct("<Ii")        # handle_bytes, handle_type


FILEID_INVALID = 0xFF            # include/linux/exportfs.h: the buffer was too small

def host_name_to_handle(host_fd):
    """The host's handle of the file open at host_fd: (type, bytes)."""
    buf = ctypes.create_string_buffer(_FILE_HANDLE_HEAD.size + MAX_HANDLE_SZ)
    _FILE_HANDLE_HEAD.pack_into(buf, 0, MAX_HANDLE_SZ, 0)
    mnt = ctypes.c_int()
    if host_libc().name_to_handle_at(host_fd, b"", buf, ctypes.byref(mnt), AT_EMPTY_PATH) < 0:
        raise OSError(ctypes.get_errno(), "name_to_handle_at")
    nbytes, htype = _FILE_HANDLE_HEAD.unpack_from(buf, 0)
    return htype, buf.raw[_FILE_HANDLE_HEAD.size:_FILE_HANDLE_HEAD.size + nbytes]


def host_open_by_handle(mount_fd, htype, data):
    """An O_PATH host descriptor of the file a handle the board issued names."""
    buf = ctypes.create_string_buffer(_FILE_HANDLE_HEAD.pack(len(data), htype) + data)
    fd = host_libc().open_by_handle_at(mount_fd, buf, os.O_PATH | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "open_by_handle_at")
    return fd


def fhandles(kernel):
    """Kernel.fhandles: {(type, bytes): st_dev} of the handles issued, and
    one O_PATH descriptor per file system to decode them with."""
    table = getattr(kernel, "fhandles", None)
    if table is None:
        table = kernel.fhandles = {"issued": {}, "mounts": {}}
    return table


def _lookup_fd(task, dirfd, path, flags):
    """The looked-up file as a host O_PATH descriptor (the caller closes
    it), or None for an object of /proc or /sys (no export operations)."""
    from kernel.fs.proc import HostTarget
    from kernel.syscalls.fs import _pseudo_lookup     # fs.py imports kernel.fs modules
    follow = bool(flags & AT_SYMLINK_FOLLOW)
    if not path and flags & AT_EMPTY_PATH:
        if s32(dirfd) == AT_FDCWD:
            return os.dup(task.fs.cwd_fd)
        file = fdget_raw(task, dirfd)
        if file is None:
            return -errno.EBADF
        return os.dup(file.host_fd) if file.host_fd is not None and file.pseudo is None \
            and file.body is None else None
    found = _pseudo_lookup(task, dirfd, path, follow)
    if isinstance(found, HostTarget):
        from kernel.fs.namei import host_target
        dir_fd, hpath = host_target(task, found, follow)
    elif found is not None:
        return None
    else:
        dir_fd, hpath = host_path(task, dirfd, path, follow)
    return os.open(hpath, os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW),
                   dir_fd=dir_fd)


def _mount_fd(hfd, st):
    """A descriptor on the file system of hfd's file to decode its handles
    with: the directory itself, or the one holding the file (the host's
    open_by_handle_at() takes no O_PATH descriptor)."""
    name = os.readlink("/proc/self/fd/%d" % hfd)
    if not stat.S_ISDIR(st.st_mode):
        name = os.path.dirname(name)
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


@syscall("name_to_handle_at", "dirfd path p p atflags")
@path_call
def sys_name_to_handle_at(task, dirfd, path_addr, handle, mnt_id, flags):
    """name_to_handle_at(): EINVAL for flags other than AT_SYMLINK_FOLLOW and
    AT_EMPTY_PATH, the lookup's errors (ENOENT, ENOTDIR, EBADF, EFAULT);
    then do_sys_name_to_handle(): EOPNOTSUPP without export operations,
    EFAULT for the header, EINVAL past MAX_HANDLE_SZ, EOVERFLOW (the size
    needed and FILEID_INVALID written back) for a buffer too small."""
    flags = s32(flags)
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    hfd = _lookup_fd(task, dirfd, user_path(task, path_addr), flags)
    if hfd is None:
        return -errno.EOPNOTSUPP
    if hfd < 0:
        return hfd
    try:
        htype, data = host_name_to_handle(hfd)
        st = os.fstat(hfd)
    except OSError as e:
        os.close(hfd)
        return -(e.errno or errno.EOPNOTSUPP)
    want, _ = _FILE_HANDLE_HEAD.unpack(task.uaccess.copy_from_user(handle,
                                                                   _FILE_HANDLE_HEAD.size))
    if want > MAX_HANDLE_SZ:
        os.close(hfd)
        return -errno.EINVAL
    table = fhandles(task.kernel)
    table["issued"][(htype, data)] = st.st_dev
    if st.st_dev not in table["mounts"]:
        table["mounts"][st.st_dev] = _mount_fd(hfd, st)
    os.close(hfd)
    from kernel.fs.proc import ROOT_MNT_ID
    ret = 0
    if len(data) > want:
        htype, ret = FILEID_INVALID, -errno.EOVERFLOW
    task.uaccess.copy_to_user(mnt_id, struct.pack("<i", ROOT_MNT_ID))
    task.uaccess.copy_to_user(handle, _FILE_HANDLE_HEAD.pack(len(data), htype)
                              + (b"" if ret else data))
    return ret


@syscall("open_by_handle_at", "fd p oflags")
def sys_open_by_handle_at(task, mountdirfd, handle, flags):
    """open_by_handle_at(): EPERM without CAP_DAC_READ_SEARCH, EBADF for the
    mount descriptor, EFAULT/EINVAL for the handle's header, ESTALE for a
    handle no file of that file system has (never issued, or its file
    deleted); then the open as file_open_root() of "" makes it: ELOOP for
    a symlink (unless O_PATH), may_open() with the caller's rights."""
    if not capable(task, CAP_DAC_READ_SEARCH):
        return -errno.EPERM
    if s32(mountdirfd) == AT_FDCWD:
        mount_dev = os.fstat(task.fs.cwd_fd).st_dev
    else:
        mfile = fdget_raw(task, mountdirfd)
        if mfile is None:
            return -errno.EBADF
        mount_dev = os.fstat(mfile.host_fd).st_dev if mfile.host_fd is not None else None
    nbytes, htype = _FILE_HANDLE_HEAD.unpack(task.uaccess.copy_from_user(
        handle, _FILE_HANDLE_HEAD.size))
    if nbytes > MAX_HANDLE_SZ or nbytes == 0:
        return -errno.EINVAL
    data = task.uaccess.copy_from_user(handle + _FILE_HANDLE_HEAD.size, nbytes)
    table = fhandles(task.kernel)
    dev = table["issued"].get((htype, data))
    if dev is None or dev != mount_dev:
        return -errno.ESTALE
    try:
        opath = host_open_by_handle(table["mounts"][dev], htype, data)
    except OSError as e:
        return -(e.errno or errno.ESTALE)
    try:
        return _handle_open(task, opath, flags & 0xFFFFFFFF)
    finally:
        os.close(opath)


def _handle_open(task, opath, flags):
    """do_handle_open() once the file is found: a new descriptor."""
    from kernel.fs.file import File
    from kernel.fs.permission import may_open_inode
    from kernel.syscalls.fs import _to_host_flags
    cloexec = bool(flags & O_CLOEXEC)
    flags, err = build_open_flags(flags & ~O_CLOEXEC)
    if err:
        return err
    st = guest_stat(task.kernel, os.fstat(opath))
    if stat.S_ISLNK(st.st_mode) and not flags & O_PATH:
        return -errno.ELOOP
    if not flags & O_PATH:
        err = may_open_inode(task, st, flags)
        if err:
            return err
    if task.files.get_unused_fd() < 0:
        return -errno.EMFILE
    host_flags = os.O_PATH | os.O_CLOEXEC if flags & O_PATH else \
        _to_host_flags(flags & ~O_NOFOLLOW)
    try:
        hfd = os.open("/proc/self/fd/%d" % opath, host_flags)
    except OSError as e:
        return -(e.errno or errno.EIO)
    file = File(task.kernel, hfd, host_d_path(task, hfd, ""), flags)
    if flags & O_PATH:
        file.readable = file.writable = False
    fd = task.files.alloc_fd(file, cloexec=cloexec)
    if fd < 0:
        file.put()
    return fd
