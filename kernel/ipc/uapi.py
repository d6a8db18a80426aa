"""include/uapi/linux/{ipc,shm,sem,msg,memfd,fcntl}.h: the numbers of SysV
IPC, memfd and file seals on arm64 (asm-generic layouts, 64-bit)."""

# linux/ipc.h
IPC_PRIVATE = 0
IPC_CREAT, IPC_EXCL, IPC_NOWAIT = 0o1000, 0o2000, 0o4000
IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO = 0, 1, 2, 3
IPC_64 = 0x0100                 # arm64 does not parse it (no ARCH_WANT_IPC_PARSE_VERSION)
IPCMNI = 32768                  # ids per class; also the multiplier of the sequence number

# linux/shm.h
SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC = 0o10000, 0o20000, 0o40000, 0o100000
SHM_LOCK, SHM_UNLOCK, SHM_STAT, SHM_INFO = 11, 12, 13, 14
SHM_DEST, SHM_LOCKED = 0o1000, 0o2000       # in shm_perm.mode
SHMMIN = 1
SHM_HUGETLB = 0o4000            # shmget(): segment uses huge pages
SHMMNI = 4096
SHMMAX = (1 << 64) - 1 - (1 << 24)          # ULONG_MAX - 2^24
SHMALL = SHMMAX
SHMSEG = SHMMNI

# linux/sem.h
SEM_UNDO = 0x1000
GETPID, GETVAL, GETALL, GETNCNT, GETZCNT, SETVAL, SETALL = 11, 12, 13, 14, 15, 16, 17
SEM_STAT, SEM_INFO = 18, 19
SEMMNI, SEMMSL, SEMMNS, SEMOPM, SEMVMX, SEMAEM = 32000, 32000, 1024000000, 500, 32767, 32767
SEMMAP, SEMMNU, SEMUME, SEMUSZ = SEMMNS, SEMMNS, SEMOPM, 20

# linux/msg.h
MSG_NOERROR, MSG_EXCEPT, MSG_COPY = 0o10000, 0o20000, 0o40000
MSG_STAT, MSG_INFO = 11, 12
MSGMNI, MSGMAX, MSGMNB = 32000, 8192, 16384
MSGPOOL, MSGTQL, MSGMAP, MSGSSZ, MSGSEG = MSGMNI * MSGMNB // 1024, MSGMNB, MSGMNB, 16, 0xFFFF

# linux/memfd.h, linux/fcntl.h (F_LINUX_SPECIFIC_BASE 1024)
MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB = 0x1, 0x2, 0x4
MFD_HUGE_SHIFT, MFD_HUGE_MASK = 26, 0x3F
MFD_NAME_PREFIX = "memfd:"
MFD_NAME_MAX_LEN = 255 - len(MFD_NAME_PREFIX)       # NAME_MAX - strlen("memfd:")
F_ADD_SEALS, F_GET_SEALS = 1033, 1034
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 0x1, 0x2, 0x4, 0x8
F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE  # 4.14: no FUTURE_WRITE

# include/linux/ipc_namespace.h (4.14): the POSIX message-queue limits of
# /proc/sys/fs/mqueue (kernel/ipc/mq_sysctl.py): defaults, floors, ceilings.
DFLT_QUEUESMAX = 256
MIN_MSGMAX, DFLT_MSGMAX, HARD_MSGMAX = 1, 10, 65536
MIN_MSGSIZEMAX, DFLT_MSGSIZEMAX, HARD_MSGSIZEMAX = 128, 8192, 16 << 20
