"""fs/stat.c: struct stat and struct statx as AArch64 programs see them."""

import os
import stat as pystat
import struct

# asm-generic/stat.h (AArch64): 128 bytes.
_STAT = struct.Struct("<QQIIIIQQqiiqqQqQqQII")
STAT_SIZE = _STAT.size

# linux/stat.h struct statx: 256 bytes; timestamps are {s64 sec, u32 nsec, s32 pad}.
_STATX_HEAD = struct.Struct("<IIQIIIHHQQQQ")
_STATX_TS = struct.Struct("<qIi")
_STATX_TAIL = struct.Struct("<IIII")
STATX_SIZE = 256
STATX_BASIC_STATS = 0x7FF


def pack_stat(st):
    """cp_new_stat(): an os.stat_result as the 128-byte AArch64 struct stat."""
    return _STAT.pack(st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                      st.st_rdev, 0, st.st_size, st.st_blksize, 0, st.st_blocks,
                      int(st.st_atime), st.st_atime_ns % 10**9,
                      int(st.st_mtime), st.st_mtime_ns % 10**9,
                      int(st.st_ctime), st.st_ctime_ns % 10**9, 0, 0)


def pack_statx(st):
    """cp_statx(): an os.stat_result as struct statx with the basic-stats mask."""
    head = _STATX_HEAD.pack(STATX_BASIC_STATS, st.st_blksize, 0, st.st_nlink, st.st_uid,
                            st.st_gid, pystat.S_IFMT(st.st_mode) | pystat.S_IMODE(st.st_mode),
                            0, st.st_ino, st.st_size, st.st_blocks, 0)
    ts = b"".join(_STATX_TS.pack(ns // 10**9, ns % 10**9, 0) for ns in
                  (st.st_atime_ns, 0, st.st_ctime_ns, st.st_mtime_ns))
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
