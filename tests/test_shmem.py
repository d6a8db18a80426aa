"""Shared memory in process: the kernel/mm parts of issue 9 part 5.

Each test builds a kernel and a task (tests/test_vma.py's Env) and calls the
mm functions and handlers directly: /dev/zero mappings (mmap_zero),
memfd_create and the seals, remap_file_pages, MADV_REMOVE's punch hole, and
the board's temporary directory.  The whole programs, compared with the
real kernel, are in tests/test_sys_ipc.py.
"""

import errno
import os
import stat
import tempfile

import pytest

from emu.arch import PAGE_SIZE
from kernel.fs.file import FdTable, File
from kernel.ipc.uapi import (
    F_ADD_SEALS, F_GET_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
    MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGETLB,
)
from kernel.mm import fremap, memfd
from kernel.mm.madvise import do_madvise
from kernel.mm.mlock import mincore_pages
from kernel.mm.mm import VM_LOCKED, VM_SHARED
from kernel.mm.mmap import do_mmap, do_munmap, find_vma, is_mergeable_vma
from kernel.mm.shmem import is_dev_zero, mapping_map_writable, shmem_seals
from kernel.uaccess import Efault
from kernel.uapi import (
    MADV_REMOVE, MAP_ANONYMOUS, MAP_FIXED, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, O_RDONLY,
    O_RDWR, PROT_EXEC, PROT_READ, PROT_WRITE,
)
from test_vma import Env

P = PAGE_SIZE
RW = PROT_READ | PROT_WRITE
BUF = 0x10000000            # a scratch page run for strings
A = 0x20000000              # where the tests map things


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    e = Env()
    e.task.files = FdTable()
    e.task.restart = None
    do_mmap(e.mm, None, BUF, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0)
    yield e
    e.task.files.close_all()
    for v in list(e.mm.vmas()):
        do_munmap(e.mm, v.vm_start, v.vm_end - v.vm_start)
    e.k.ipc_ns.shutdown()
    assert list(tmp_path.iterdir()) == []


def cstr(env, text, addr=BUF):
    env.write(addr, text.encode() + b"\0")
    return addr


def new_memfd(env, name="m", flags=MFD_ALLOW_SEALING, size=2 * P):
    fd = memfd.sys_memfd_create(env.task, cstr(env, name), flags)
    assert fd >= 0
    file = env.task.files.get(fd)
    if size:
        os.ftruncate(file.host_fd, size)
    return fd, file


def map_file(env, file, addr=A, npages=2, prot=RW, flags=MAP_SHARED, pgoff=0):
    return do_mmap(env.mm, file, addr, npages * P, prot, flags | MAP_FIXED, pgoff)


# -- /dev/zero --------------------------------------------------------------------

def test_dev_zero_shared_is_a_shmem_file_of_its_own(env):
    zero = File(env.k, os.open("/dev/zero", os.O_RDWR), "/dev/zero", O_RDWR)
    assert is_dev_zero(zero)
    assert map_file(env, zero) == A
    vma = find_vma(env.mm, A)
    assert vma.vm_file is not zero and vma.vm_file.path == "/dev/zero (deleted)"
    assert vma.vm_file.mapping.host_fd is None and vma.vm_file.mapping.size() == 2 * P
    assert zero.refcount == 1                   # mmap_zero() gave back the VMA's reference
    env.write(A + P, b"z")
    assert mincore_pages(env.mm, A, 2 * P) == (b"\0\1", 0)
    assert env.read(A + P, 1) == b"z"
    zero.put()


def test_dev_zero_private_is_anonymous(env):
    zero = File(env.k, os.open("/dev/zero", os.O_RDONLY), "/dev/zero", O_RDONLY)
    assert map_file(env, zero, flags=MAP_PRIVATE) == A
    vma = find_vma(env.mm, A)
    assert vma.vm_file is None and not vma.vm_flags & VM_SHARED
    assert zero.refcount == 1
    assert map_file(env, zero, addr=A + 4 * P) == -errno.EACCES    # shared writable, O_RDONLY
    zero.put()


def test_other_files_are_not_dev_zero(env, tmp_path):
    null = File(env.k, os.open("/dev/null", os.O_RDWR), "/dev/null", O_RDWR)
    assert not is_dev_zero(null)
    assert map_file(env, null) == -errno.ENODEV
    null.put()
    path = tmp_path / "f"
    path.write_bytes(b"x" * P)
    regular = File(env.k, os.open(path, os.O_RDWR), str(path), O_RDWR)
    assert not is_dev_zero(regular)
    assert shmem_seals(regular) is None         # a host file is not shmem
    regular.put()
    path.unlink()
    assert not is_dev_zero(File(env.k, None, "/proc/x", O_RDONLY, body=b""))


# -- memfd_create ------------------------------------------------------------------

def test_memfd_create_flags_and_names(env):
    t = env.task
    assert memfd.sys_memfd_create(t, cstr(env, "x"), 0x8) == -errno.EINVAL
    assert memfd.sys_memfd_create(t, cstr(env, "x"), (1 << 32) | MFD_CLOEXEC) >= 0  # int flags
    assert memfd.sys_memfd_create(t, cstr(env, "x"), MFD_HUGETLB) == -errno.ENOSYS
    assert memfd.sys_memfd_create(t, cstr(env, "x"), MFD_HUGETLB | (0x3F << 26)) == -errno.ENOSYS
    assert memfd.sys_memfd_create(t, cstr(env, "x"), MFD_HUGETLB | 0x8) == -errno.EINVAL
    assert memfd.sys_memfd_create(t, cstr(env, "x"), 0x1 << 26) == -errno.EINVAL
    assert memfd.sys_memfd_create(t, cstr(env, "n" * 249), 0) >= 0
    assert memfd.sys_memfd_create(t, cstr(env, "n" * 250), 0) == -errno.EINVAL
    with pytest.raises(Efault):
        memfd.sys_memfd_create(t, 0, 0)
    fd = memfd.sys_memfd_create(t, cstr(env, "named"), MFD_CLOEXEC)
    file = t.files.get(fd)
    assert fd in t.files.cloexec and file.path == "/memfd:named (deleted)"
    assert file.readable and file.writable and file.mapping is not None
    st = os.fstat(file.host_fd)
    assert stat.S_ISREG(st.st_mode) and st.st_mode & 0o7777 == 0o777 and st.st_nlink == 0
    assert shmem_seals(file) == F_SEAL_SEAL
    fd2 = memfd.sys_memfd_create(t, cstr(env, "s"), MFD_ALLOW_SEALING)
    assert fd2 not in t.files.cloexec and shmem_seals(t.files.get(fd2)) == 0


def test_memfd_create_without_a_free_descriptor(env):
    env.task.files.max_fds = 0
    assert memfd.sys_memfd_create(env.task, cstr(env, "x"), 0) == -errno.EMFILE


# -- seals -------------------------------------------------------------------------

def test_add_seals_rules(env):
    fd, file = new_memfd(env)
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, 1 << 32) == -errno.EINVAL
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, 0x10) == -errno.EINVAL     # no FUTURE_WRITE in 4.14
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_SHRINK) == 0
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_GROW) == 0
    assert memfd.shmem_fcntl(file, F_GET_SEALS, 0) == F_SEAL_SHRINK | F_SEAL_GROW
    reader = File(env.k, os.open("/proc/self/fd/%d" % file.host_fd, os.O_RDONLY),
                  file.path, O_RDONLY)
    assert reader.mapping is file.mapping
    assert memfd.shmem_fcntl(reader, F_ADD_SEALS, F_SEAL_WRITE) == -errno.EPERM
    assert memfd.shmem_fcntl(reader, F_GET_SEALS, 0) == F_SEAL_SHRINK | F_SEAL_GROW
    reader.put()
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_SEAL) == 0
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, 0) == -errno.EPERM
    fd, plain = new_memfd(env, flags=0)
    assert memfd.shmem_fcntl(plain, F_ADD_SEALS, F_SEAL_GROW) == -errno.EPERM


def test_seal_write_waits_for_shared_mappings_in_any_process(env):
    fd, file = new_memfd(env)
    assert map_file(env, file, prot=PROT_READ) == A         # VM_SHARED even read-only
    assert mapping_map_writable(file) == 0
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_WRITE) == -errno.EBUSY
    assert memfd.shmem_fcntl(file, F_GET_SEALS, 0) == 0
    assert do_munmap(env.mm, A, 2 * P) == 0
    assert map_file(env, file, flags=MAP_PRIVATE) == A
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW) == 0
    assert mapping_map_writable(file) == -errno.EPERM
    assert map_file(env, file, addr=A + 8 * P) == -errno.EPERM
    assert map_file(env, file, addr=A + 8 * P, flags=MAP_PRIVATE) == A + 8 * P
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_WRITE) == 0      # again: no change


def test_write_checks_follow_generic_perform_write_chunks(env):
    fd, file = new_memfd(env, size=2 * P + 100)
    check = memfd.shmem_write_check
    assert check(file, 5 * P, 10) == 10                    # no seal: anything
    file.mapping.seals = F_SEAL_GROW
    assert check(file, 0, 2 * P + 100) == 2 * P + 100      # up to the end exactly
    assert check(file, P - 10, 20) == 20
    assert check(file, 2 * P + 90, 20) == -errno.EPERM     # one chunk, past the end
    assert check(file, P, 2 * P) == P                      # page 1 fits, page 2's chunk does not
    assert check(file, P + 1, 2 * P) == P - 1              # the first chunk ends at the page
    assert check(file, 3 * P, 0) == 0
    file.mapping.seals = F_SEAL_WRITE
    assert check(file, 0, 1) == -errno.EPERM
    file.mapping.seals = F_SEAL_SHRINK
    assert check(file, 10 * P, 1) == 1


def test_setattr_checks(env):
    fd, file = new_memfd(env, size=2 * P)
    check = memfd.shmem_setattr_check
    assert check(file, 0) == 0
    file.mapping.seals = F_SEAL_SHRINK
    assert check(file, P) == -errno.EPERM
    assert check(file, 2 * P) == 0 and check(file, 3 * P) == 0
    file.mapping.seals = F_SEAL_GROW
    assert check(file, 3 * P) == -errno.EPERM
    assert check(file, 2 * P) == 0 and check(file, P) == 0


def test_files_of_the_board_tmpfs_are_sealed_shmem(env):
    path = env.k.ipc_ns.shm_path(b"/dev/shm/f")
    f = File(env.k, os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "/dev/shm/f", O_RDWR)
    assert shmem_seals(f) == F_SEAL_SEAL
    assert memfd.shmem_fcntl(f, F_ADD_SEALS, F_SEAL_WRITE) == -errno.EPERM
    f.put()


# -- remap_file_pages --------------------------------------------------------------

def test_remap_file_pages_maps_another_page_of_the_file(env):
    fd, file = new_memfd(env, size=4 * P)
    os.pwrite(file.host_fd, b"".join(bytes([65 + i]) * P for i in range(4)), 0)
    assert map_file(env, file, npages=4) == A
    assert fremap.sys_remap_file_pages(env.task, A + P + 5, P, 0, 3, 0) == 0
    vma = find_vma(env.mm, A + P)
    assert (vma.vm_start, vma.vm_end, vma.vm_pgoff) == (A + P, A + 2 * P, 3)
    assert env.read(A + P, 1) == b"D" and env.read(A, 1) == b"A"
    assert env.k.log == ["t (1) uses deprecated remap_file_pages() syscall. "
                         "See Documentation/vm/remap_file_pages.txt."]
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, 1, 0) == 0
    assert len(env.k.log) == 1                              # pr_warn_once
    # The range may span VMAs of the same file and flags with no hole.
    assert fremap.sys_remap_file_pages(env.task, A, 3 * P, 0, 0, 0) == 0
    assert env.read(A + 2 * P, 1) == b"C"


@pytest.mark.parametrize("case", ["prot", "empty", "wrap", "pgoff", "unmapped", "private",
                                  "below", "hole", "other_file", "other_flags", "past_end"])
def test_remap_file_pages_einval(env, case):
    fd, file = new_memfd(env, size=8 * P)
    map_file(env, file, npages=2)
    start, size, prot, pgoff = A, P, 0, 0
    if case == "prot":
        prot = PROT_READ
    elif case == "empty":
        size = P - 1
    elif case == "wrap":
        start, size = (1 << 64) - P, 2 * P
    elif case == "pgoff":
        pgoff = (1 << 64) - 1
    elif case == "unmapped":
        start = A + 16 * P
    elif case == "private":
        start = BUF
    elif case == "below":
        start, size = A - P, 2 * P
        map_file(env, file, addr=A - 4 * P, npages=1)
    elif case == "hole":
        map_file(env, file, addr=A + 3 * P, npages=1)
        size = 4 * P
    elif case == "other_file":
        fd2, other = new_memfd(env, "o", size=P)
        map_file(env, other, addr=A + 2 * P, npages=1)
        size = 3 * P
    elif case == "other_flags":
        map_file(env, file, addr=A + 2 * P, npages=1, prot=PROT_READ)
        size = 3 * P
    elif case == "past_end":
        size = 3 * P
    assert fremap.sys_remap_file_pages(env.task, start, size, prot, pgoff, 0) == -errno.EINVAL


def test_remap_file_pages_keeps_mlock(env):
    fd, file = new_memfd(env, size=2 * P)
    assert do_mmap(env.mm, file, A, 2 * P, RW, MAP_SHARED | MAP_FIXED | MAP_LOCKED, 0) == A
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, 1, 0) == 0
    vma = find_vma(env.mm, A)
    assert vma.vm_flags & VM_LOCKED and vma.vm_pgoff == 1 and vma.vm_end == A + P


# -- MADV_REMOVE ---------------------------------------------------------------------

def test_madv_remove_on_shmem_drops_cache_pages_not_private_copies(env):
    assert do_mmap(env.mm, None, A, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, 0) == A
    shm = find_vma(env.mm, A).vm_file
    mapping = shm.mapping
    env.write(A, b"a")
    env.write(A + P, b"b")
    assert sorted(mapping.pages) == [0, 1]
    assert do_madvise(env.mm, A + P, P, MADV_REMOVE) == 0
    assert sorted(mapping.pages) == [0]
    assert env.pte(A + P) == 0 and env.pte(A) != 0
    assert env.read(A + P, 1) == b"\0" and env.read(A, 1) == b"a"


def test_madv_remove_on_a_file_punches_the_host_file(env):
    fd, file = new_memfd(env, size=3 * P)
    os.pwrite(file.host_fd, b"x" * 3 * P, 0)
    assert map_file(env, file, npages=3) == A
    assert do_mmap(env.mm, file, A + 8 * P, 3 * P, RW, MAP_PRIVATE | MAP_FIXED, 0) == A + 8 * P
    env.read(A + 8 * P, 1)                      # page 0 mapped from the cache, privately
    env.write(A + 9 * P, b"p")                  # page 1: a private copy
    env.read(A + 10 * P, 1)
    env.write(A + P, b"y")                      # dirty in the cache
    assert do_madvise(env.mm, A, 2 * P, MADV_REMOVE) == 0
    assert os.pread(file.host_fd, 3 * P, 0) == bytes(2 * P) + b"x" * P
    assert os.fstat(file.host_fd).st_size == 3 * P
    assert 1 not in file.mapping.dirty
    assert env.pte(A + 8 * P) == 0              # the cache page's pte went
    assert env.read(A + 9 * P, 1) == b"p"       # the private copy stayed
    assert env.pte(A + 10 * P) != 0             # outside the hole: untouched
    assert env.read(A + 8 * P, 1) == b"\0"


def test_madv_remove_errors(env):
    fd, file = new_memfd(env, size=2 * P)
    assert do_madvise(env.mm, BUF, P, MADV_REMOVE) == -errno.EINVAL            # anonymous
    map_file(env, file, flags=MAP_PRIVATE)
    assert do_madvise(env.mm, A, P, MADV_REMOVE) == -errno.EACCES               # private
    map_file(env, file, prot=PROT_READ)
    assert do_madvise(env.mm, A, P, MADV_REMOVE) == -errno.EACCES               # read-only
    do_mmap(env.mm, file, A, 2 * P, RW, MAP_SHARED | MAP_FIXED | MAP_LOCKED, 0)
    assert do_madvise(env.mm, A, P, MADV_REMOVE) == -errno.EINVAL               # locked


def test_a_file_with_a_close_hook_never_merges(env):
    fd, file = new_memfd(env)
    map_file(env, file)
    vma = find_vma(env.mm, A)
    assert is_mergeable_vma(vma, file, vma.vm_flags)
    file.vm_ops_close = True
    assert not is_mergeable_vma(vma, file, vma.vm_flags)


# --- the board's temporary directory, in-process --------------------------------

def _namespace(monkeypatch, tmp_path):
    import tempfile

    from kernel.ipc.namespace import IpcNamespace
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return IpcNamespace()


def test_namespace_directory_is_made_on_first_use_and_removed(monkeypatch, tmp_path):
    """A board that never touches /dev/shm or memfd makes no directory; one
    that does gets a private one (0700) that shutdown() removes, with
    everything in it."""
    ns = _namespace(monkeypatch, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert not ns.owns(b"/tmp")
    root = ns.host_root()
    assert os.path.dirname(root) == os.fsencode(tmp_path)
    assert os.stat(root).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(root, b"shm")).st_mode & 0o7777 == 0o1777
    with open(ns.shm_path(b"/dev/shm/left-behind"), "w") as f:
        f.write("x")
    assert ns.owns(ns.shm_path(b"/dev/shm/left-behind"))
    assert ns.host_root() == root
    ns.shutdown()
    assert list(tmp_path.iterdir()) == []
    ns.shutdown()                       # twice is harmless


def test_dev_shm_names_map_into_the_board(monkeypatch, tmp_path):
    """Only /dev/shm and what is under it is the board's tmpfs."""
    ns = _namespace(monkeypatch, tmp_path)
    root = os.fsencode(tmp_path)
    assert ns.shm_path(b"/dev/zero") is None
    assert ns.shm_path(b"/dev/shmem") is None
    assert list(tmp_path.iterdir()) == []       # asking about other names makes nothing
    shm = ns.shm_path(b"/dev/shm")
    assert shm.startswith(root) and shm.endswith(b"/shm")
    assert ns.shm_path(b"/dev/shm/a/b") == shm + b"/a/b"
    ns.shutdown()


def test_namespace_directory_goes_with_the_namespace(monkeypatch, tmp_path):
    """If the kernel never shuts down (a crash of the emulator itself), the
    directory still goes when the namespace is collected or Python exits."""
    import gc
    ns = _namespace(monkeypatch, tmp_path)
    ns.host_root()
    assert len(list(tmp_path.iterdir())) == 1
    del ns
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_ipc_ids_reuse_the_lowest_index_with_a_new_sequence():
    """ipc_addid(): ids are seq * 32768 + index; a freed index is reused with
    the next sequence number, so the old id stays invalid."""
    from kernel.ipc.namespace import IpcIds
    from kernel.ipc.util import ipc_addid, ipc_obtain_object_check, ipc_rmid

    class Obj:
        def __init__(self):
            self.perm = type("P", (), {"deleted": False})()

    ids = IpcIds()
    a, b = Obj(), Obj()
    assert ipc_addid(ids, a, 10) == 0
    assert ipc_addid(ids, b, 10) == 32768 + 1
    assert ids.max_id == 1
    ipc_rmid(ids, a)
    assert a.perm.deleted and ids.in_use == 1
    c = Obj()
    assert ipc_addid(ids, c, 10) == 2 * 32768
    assert ipc_obtain_object_check(ids, 0) == -22
    assert ipc_obtain_object_check(ids, 2 * 32768) is c
    assert ipc_addid(ids, Obj(), 2) == -28        # ENOSPC: the class is full


# --- bad input: random arguments to every call of this part -----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

IPC_CALLS = ("shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
             "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
             "mq_timedreceive", "mq_getsetattr", "mq_notify", "memfd_create",
             "remap_file_pages")
BUF = 0x10000000                        # a mapped, writable page run in the fuzz task


def _fuzz_env(tmp_path_factory):
    import tempfile

    from kernel.fs.file import FdTable
    from kernel.mm.mmap import do_mmap
    from kernel.sched.task import FsStruct
    from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE
    from test_vma import Env
    tempfile.tempdir = str(tmp_path_factory.mktemp("fuzz-tmp"))
    env = Env()
    env.task.files = FdTable()
    env.task.fs = FsStruct(str(tmp_path_factory.mktemp("fuzz-cwd")))
    do_mmap(env.mm, None, BUF, 4 << 12, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0)
    return env


ARG = st.one_of(st.sampled_from([0, 1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 0x1000, 0x800,
                                 0o1000, 0o2000, 0o1600, (1 << 32) - 1, (1 << 64) - 1,
                                 1 << 63, BUF, BUF + 8, BUF + 0x3FF0, 8, 32768]),
                st.integers(0, (1 << 64) - 1))


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    import tempfile
    old = tempfile.tempdir
    env = _fuzz_env(tmp_path_factory)
    yield env
    env.k.ipc_ns.shutdown()
    env.task.files.close_all()
    tempfile.tempdir = old


@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(IPC_CALLS), args=st.lists(ARG, min_size=6, max_size=6))
def test_random_arguments_give_errnos_not_tracebacks(fuzz_env, name, args):
    """Any arguments: a result or a Linux errno (EFAULT from a bad pointer,
    a sleep), never a Python exception."""
    from kernel.sched.wait import WouldBlock
    from kernel.syscalls.table import _DEFS
    from kernel.uaccess import Efault
    d = next(d for d in _DEFS if d.name == name)
    task = fuzz_env.task
    task.restart = None
    try:
        ret = d.func(task, *args[:d.nargs])
    except (Efault, WouldBlock):
        return
    assert isinstance(ret, int)
    assert ret >= 0 or -4095 <= ret < 0


# --- edges the mutation run asked for ----------------------------------------------

def test_memfd_name_is_read_no_further_than_250_bytes(env):
    end = BUF + 4 * P                           # nothing is mapped after the scratch pages
    env.write(end - 250, b"n" * 250)
    assert memfd.sys_memfd_create(env.task, end - 250, 0) == -errno.EINVAL
    env.write(end - 250, b"n" * 249 + b"\0")
    assert memfd.sys_memfd_create(env.task, end - 250, 0) >= 0


def test_memfd_host_file_is_the_boards_and_private(env):
    fd, file = new_memfd(env)
    target = os.readlink("/proc/self/fd/%d" % file.host_fd).encode()
    assert target.startswith(os.path.join(env.k.ipc_ns.host_root(), b"memfd") + b"/")
    assert not os.get_inheritable(file.host_fd)


def test_seals_of_files_that_are_not_shmem(env, tmp_path):
    path = tmp_path / "plain"
    path.write_bytes(b"x")
    plain = File(env.k, os.open(path, os.O_RDWR), str(path), O_RDWR)
    assert memfd.shmem_fcntl(plain, F_ADD_SEALS, F_SEAL_SEAL) == -errno.EINVAL
    assert memfd.shmem_fcntl(plain, F_GET_SEALS, 0) == -errno.EINVAL
    assert mapping_map_writable(plain) == 0
    plain.put()
    path.unlink()


def test_other_seals_do_not_wait_for_mappings(env):
    fd, file = new_memfd(env)
    assert map_file(env, file) == A
    assert memfd.shmem_fcntl(file, F_ADD_SEALS, F_SEAL_GROW) == 0
    assert mapping_map_writable(file) == 0
    assert map_file(env, file, addr=A + 4 * P) == A + 4 * P
    reader = File(env.k, os.open("/proc/self/fd/%d" % file.host_fd, os.O_RDONLY),
                  file.path, O_RDONLY)
    assert memfd.shmem_fcntl(reader, F_ADD_SEALS, 0xFFFFFFFF) == -errno.EPERM
    reader.put()


def test_write_check_chunks_start_at_each_page(env):
    fd, file = new_memfd(env, size=3 * P)
    file.mapping.seals = F_SEAL_GROW
    assert memfd.shmem_write_check(file, P + 1, 2 * P) == 2 * P - 1


def test_remap_file_pages_warning_key_is_its_own(env):
    fd, file = new_memfd(env, size=2 * P)
    map_file(env, file)
    env.k.warned_once.add("remap_file_pages")
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, 1, 0) == 0
    assert env.k.log == []


def test_remap_file_pages_pgoff_limits_and_do_mmap_errors(env):
    fd, file = new_memfd(env, size=2 * P)
    map_file(env, file)
    # pgoff + pages == ULONG_MAX does not wrap: do_mmap() then refuses it.
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, (1 << 64) - 2, 0) == -errno.EOVERFLOW
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, (1 << 64) - 1, 0) == -errno.EINVAL


def test_remap_file_pages_range_ending_at_a_vma_end(env):
    fd, file = new_memfd(env, size=8 * P)
    map_file(env, file, npages=2)
    assert fremap.sys_remap_file_pages(env.task, A, 2 * P, 0, 4, 0) == 0   # the last VMA, whole
    map_file(env, file, addr=A + 2 * P, npages=2, pgoff=0)          # not contiguous: no merge
    assert len([v for v in env.mm.vmas() if v.vm_start >= A]) == 2
    assert fremap.sys_remap_file_pages(env.task, A, 4 * P, 0, 0, 0) == 0   # ends at a VMA's end


def test_remap_file_pages_checks_every_vma_of_the_range(env):
    fd, file = new_memfd(env, size=8 * P)
    fd2, other = new_memfd(env, "o", size=P)
    map_file(env, file, npages=1, pgoff=0)
    map_file(env, file, addr=A + P, npages=1, pgoff=5)          # same file, no merge
    map_file(env, other, addr=A + 2 * P, npages=1)
    assert len([v for v in env.mm.vmas() if v.vm_start >= A]) == 3
    assert fremap.sys_remap_file_pages(env.task, A, 3 * P, 0, 0, 0) == -errno.EINVAL


@pytest.mark.parametrize("prot", [PROT_WRITE, 0, PROT_READ | PROT_EXEC])
def test_remap_file_pages_keeps_the_protection(env, prot):
    fd, file = new_memfd(env, size=2 * P)
    map_file(env, file, prot=prot)
    flags = find_vma(env.mm, A).vm_flags
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, 1, 0) == 0
    vma = find_vma(env.mm, A)
    assert vma.vm_pgoff == 1 and vma.vm_flags == flags


def test_remap_file_pages_populates(env):
    fd, file = new_memfd(env, size=2 * P)
    map_file(env, file)
    assert env.pte(A) == 0
    assert fremap.sys_remap_file_pages(env.task, A, P, 0, 1, 0) == 0
    assert env.pte(A) != 0                              # MAP_POPULATE
    assert fremap.sys_remap_file_pages(env.task, A + P, P, 0, 0, 0x10000) == 0
    assert env.pte(A + P) == 0                          # MAP_NONBLOCK: no populate


def test_punch_hole_of_one_page_in_the_middle(env):
    from kernel.mm.filemap import host_punch_hole
    fd, file = new_memfd(env, size=4 * P)
    os.pwrite(file.host_fd, b"x" * 4 * P, 0)
    assert map_file(env, file, npages=4) == A
    for i in range(4):
        env.write(A + i * P, b"y")
    assert file.mapping.dirty == {0, 1, 2, 3}
    assert file.mapping.punch_hole(1, 1) == 0
    assert file.mapping.dirty == {0, 2, 3}
    assert sorted(file.mapping.pages) == [0, 2, 3]
    assert os.pread(file.host_fd, P, P) == bytes(P)
    assert os.pread(file.host_fd, 1, 0) == b"x" and os.pread(file.host_fd, 1, 2 * P) == b"x"
    assert env.pte(A + P) == 0 and env.pte(A) != 0 and env.pte(A + 2 * P) != 0
    ro = os.open("/proc/self/fd/%d" % file.host_fd, os.O_RDONLY)
    assert host_punch_hole(ro, 0, P) == -errno.EBADF
    os.close(ro)


def test_zap_mapping_pages_follows_each_vmas_offset(env):
    fd, file = new_memfd(env, size=8 * P)
    assert map_file(env, file, npages=1, pgoff=0) == A                      # page 0
    assert map_file(env, file, addr=A + 8 * P, npages=2, pgoff=2) == A + 8 * P  # pages 2, 3
    far = A + (64 << 20)                                                    # no page table yet
    assert map_file(env, file, addr=far, npages=2, pgoff=2, flags=MAP_PRIVATE) == far
    priv = A + 16 * P
    assert map_file(env, file, addr=priv, npages=2, pgoff=2, flags=MAP_PRIVATE) == priv
    env.read(A, 1)
    env.read(A + 8 * P, 1)
    env.read(A + 9 * P, 1)
    env.read(priv, 1)                                   # page 2 from the cache; page 3 not mapped
    assert file.mapping.punch_hole(3, 3) == 0
    assert env.pte(A) != 0 and env.pte(A + 8 * P) != 0
    assert env.pte(A + 9 * P) == 0
    assert env.pte(priv) != 0
    env.read(A + 9 * P, 1)
    assert file.mapping.punch_hole(2, 2) == 0
    assert env.pte(A + 8 * P) == 0 and env.pte(priv) == 0 and env.pte(A) != 0
    assert env.pte(A + 9 * P) != 0                      # page 3: after the hole


def test_ipc_checks_ask_the_capability_linux_asks():
    """ipcperms() passes a mode-0 object with CAP_IPC_OWNER; IPC_SET/IPC_RMID
    of another's object (ipcctl_pre_down_nolock) needs CAP_SYS_ADMIN, and
    CAP_IPC_OWNER alone is not enough."""
    import types
    from kernel.cred import CAP_IPC_OWNER, CAP_SYS_ADMIN, Cred
    from kernel.ipc.namespace import IpcIds
    from kernel.ipc.util import KernIpcPerm, ipc_addid, ipcctl_pre_down, ipcperms

    def task_with(uid, caps):
        cred = Cred(uid, uid)
        cred.cap_effective = caps
        return types.SimpleNamespace(cred=cred)

    owner = task_with(1000, 0)

    class Obj:
        def __init__(self):
            self.perm = KernIpcPerm(owner, 1, 0o000)

    ids = IpcIds()
    obj = Obj()
    ident = ipc_addid(ids, obj, 10)
    other = task_with(2000, 0)
    ipc_owner = task_with(2000, 1 << CAP_IPC_OWNER)
    admin = task_with(2000, 1 << CAP_SYS_ADMIN)
    assert ipcperms(other, obj.perm, 0o400) == -1
    assert ipcperms(ipc_owner, obj.perm, 0o400) == 0
    assert ipcctl_pre_down(other, ids, ident) == -1          # -EPERM
    assert ipcctl_pre_down(ipc_owner, ids, ident) == -1
    assert ipcctl_pre_down(admin, ids, ident) is obj
    assert ipcctl_pre_down(owner, ids, ident) is obj
