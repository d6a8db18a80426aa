"""fs/stat.c: struct stat and struct statx as AArch64 programs see them."""

import ctypes
import os
import stat as pystat
import struct

from kernel.uapi import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW

# asm-generic/stat.h (AArch64): 128 bytes.
_STAT = struct.Struct("<QQIIIIQQqiiqqQqQqQII")
STAT_SIZE = _STAT.size

# linux/stat.h struct statx: 256 bytes; timestamps are {s64 sec, u32 nsec, s32 pad}.
_STATX_HEAD = struct.Struct("<IIQIIIHHQQQQ")
_STATX_TS = struct.Struct("<qIi")
_STATX_TAIL = struct.Struct("<IIII")
STATX_SIZE = 256
STATX_BASIC_STATS = 0x7FF
_STATX_ATTRS = struct.Struct("<Q")
_STATX_ATTRIBUTES_AT = 8                # offsetof(struct statx, stx_attributes)
_STATX_ATTRIBUTES_MASK_AT = 56          # offsetof(struct statx, stx_attributes_mask)
# include/uapi/linux/stat.h: the stx_attributes bits 4.14 defines.
STATX_ATTR_COMPRESSED = 0x00000004
STATX_ATTR_IMMUTABLE = 0x00000010
STATX_ATTR_APPEND = 0x00000020
STATX_ATTR_NODUMP = 0x00000040
STATX_ATTR_ENCRYPTED = 0x00000800
STATX_ATTR_AUTOMOUNT = 0x00001000
STATX_ATTRS_4_14 = (STATX_ATTR_COMPRESSED | STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND |
                    STATX_ATTR_NODUMP | STATX_ATTR_ENCRYPTED | STATX_ATTR_AUTOMOUNT)
# What a 4.14 file system can say it supports: ext4_getattr()'s five.  Later
# kernels add AUTOMOUNT (5.8, commit 801e52379600), MOUNT_ROOT (5.8), VERITY
# (5.5) and DAX (5.10) to the mask: not 4.14's, so not passed through.
STATX_ATTRS_MASK_4_14 = (STATX_ATTR_COMPRESSED | STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND |
                         STATX_ATTR_NODUMP | STATX_ATTR_ENCRYPTED)
STATX_BTIME = 0x800
_STATX_MASK_AT = 0                      # offsetof(struct statx, stx_mask)
_STATX_BTIME_AT = 80                    # offsetof(struct statx, stx_btime)
_STATX_MASK = struct.Struct("<I")
_STATX_BASIC_REQUEST = STATX_BASIC_STATS | STATX_BTIME
_libc = ctypes.CDLL(None, use_errno=True)


def host_statx_attributes(dir_fd, path, follow):
    """(stx_attributes, stx_attributes_mask, btime) of a host file, from the
    host's statx(), the attributes cut to the bits 4.14 defines: the file
    system's getattr() (ext4_getattr() sets the five of
    STATX_ATTRS_MASK_4_14, and STATX_BTIME with i_crtime whenever the inode
    holds one, whatever was asked) is the host's.  btime is the host's
    (sec, nsec) when its stx_mask has STATX_BTIME, else None.
    Omitted: a host file system that reports a mask 4.14's did not (tmpfs
    since 6.0 reports APPEND/IMMUTABLE/NODUMP; 4.14's shmem_getattr() none).
    (0, 0, None) when the host has no statx()."""
    buf = ctypes.create_string_buffer(256)
    flags = (0 if follow else AT_SYMLINK_NOFOLLOW) | (0 if path else AT_EMPTY_PATH)
    statx = getattr(_libc, "statx", None)
    if statx is None or statx(AT_FDCWD if dir_fd is None else dir_fd, os.fsencode(path),
                              flags, _STATX_BASIC_REQUEST, buf) != 0:
        return 0, 0, None
    attrs = _STATX_ATTRS.unpack_from(buf.raw, _STATX_ATTRIBUTES_AT)[0]
    mask = _STATX_ATTRS.unpack_from(buf.raw, _STATX_ATTRIBUTES_MASK_AT)[0]
    btime = None
    if _STATX_MASK.unpack_from(buf.raw, _STATX_MASK_AT)[0] & STATX_BTIME:
        btime = _STATX_TS.unpack_from(buf.raw, _STATX_BTIME_AT)[:2]
    return attrs & STATX_ATTRS_4_14, mask & STATX_ATTRS_MASK_4_14, btime


def pack_stat(st):
    """cp_new_stat(): an os.stat_result as the 128-byte AArch64 struct stat."""
    return _STAT.pack(st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                      st.st_rdev, 0, st.st_size, st.st_blksize, 0, st.st_blocks,
                      int(st.st_atime), st.st_atime_ns % 10**9,
                      int(st.st_mtime), st.st_mtime_ns % 10**9,
                      int(st.st_ctime), st.st_ctime_ns % 10**9, 0, 0)


def pack_statx(st, attributes=0, attributes_mask=0, btime=None):
    """cp_statx(): an os.stat_result as struct statx with the basic-stats mask
    and the file's stx_attributes/stx_attributes_mask and birth time
    (host_statx_attributes(); STATX_BTIME in stx_mask when there is one)."""
    result_mask = STATX_BASIC_STATS | (STATX_BTIME if btime is not None else 0)
    head = _STATX_HEAD.pack(result_mask, st.st_blksize, attributes, st.st_nlink, st.st_uid,
                            st.st_gid, pystat.S_IFMT(st.st_mode) | pystat.S_IMODE(st.st_mode),
                            0, st.st_ino, st.st_size, st.st_blocks, attributes_mask)
    b_sec, b_nsec = btime if btime is not None else (0, 0)
    ts = b"".join(_STATX_TS.pack(sec, nsec, 0) for sec, nsec in
                  ((st.st_atime_ns // 10**9, st.st_atime_ns % 10**9), (b_sec, b_nsec),
                   (st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9),
                   (st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9)))
    tail = _STATX_TAIL.pack(os.major(st.st_rdev), os.minor(st.st_rdev),
                            os.major(st.st_dev), os.minor(st.st_dev))
    out = head + ts + tail
    return out + bytes(STATX_SIZE - len(out))


class SyntheticStat:
    """Enough of an os.stat_result for a procfs file (regular, read-only)."""

    def __init__(self, size, mode=pystat.S_IFREG | 0o444, ino=1):
        now = 0
        self.st_dev, self.st_ino, self.st_mode, self.st_nlink = 0x16, ino, mode, 1
        self.st_uid, self.st_gid, self.st_rdev, self.st_size = os.getuid(), os.getgid(), 0, size
        self.st_blksize, self.st_blocks = 1024, 0
        self.st_atime = self.st_mtime = self.st_ctime = now
        self.st_atime_ns = self.st_mtime_ns = self.st_ctime_ns = now
