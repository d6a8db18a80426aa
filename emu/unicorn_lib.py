"""libunicorn for the cores through ctypes alone (issue 8: start-up).

Unicorn's Python binding costs ~45% of the instructions of `a53emu run
hello` before any guest code runs (callgrind: `import unicorn` 68.6M
instructions on top of the 22.7M of libunicorn's dlopen, against 284M for
the whole run): it imports typing, builds generic ctypes classes, and
imports the constant modules of every architecture (x86_const alone is
~1,700 names).  The cores need a dozen of its functions, a few
structures and a few dozen constants, so this module opens the same
libunicorn (the one in the installed package's lib/, found without
running the package) and declares just those, with the binding's own
names: `Engine` is the part of the binding's `Uc` the cores call, `uclib`
its library with prototypes.

The constants are Unicorn 2.1.4's (include/unicorn/unicorn.h and
arm64.h; a test compares every one with the binding's).  When the
library is not where the package keeps it, or reports another version,
the module takes everything from the binding instead (imported as
emu/fast_import.py does), so a core always runs on the constants of the
library it loaded.
"""

import ctypes
import importlib.util
import os

# The version whose constants are written below (UC_API_MAJOR/MINOR/PATCH).
VERSION = (2, 1, 4)
_LIB_NAMES = ("libunicorn.so.2", "libunicorn.so", "libunicorn.2.dylib", "libunicorn.dylib")

# unicorn.h: architectures, modes, permissions, hooks, uc_ctl().
UC_ARCH_ARM64 = 2
UC_MODE_ARM = 0
UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC, UC_PROT_ALL = 1, 2, 4, 7
UC_HOOK_INTR, UC_HOOK_CODE = 1, 4
UC_HOOK_MEM_FETCH_UNMAPPED = 1 << 6
UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE = 1 << 10, 1 << 11
UC_HOOK_EDGE_GENERATED, UC_HOOK_TLB_FILL = 1 << 15, 1 << 17
UC_TLB_VIRTUAL = 1
UC_CTL_IO_WRITE = 1
UC_CTL_UC_PAGE_SIZE, UC_CTL_UC_USE_EXITS, UC_CTL_CPU_MODEL = 1, 4, 7
UC_CTL_TB_FLUSH, UC_CTL_TLB_FLUSH, UC_CTL_TLB_TYPE = 10, 11, 12
# arm64.h: the CPU model and the registers the cores use.
UC_CPU_ARM64_A53 = 1
UC_ARM64_REG_X29, UC_ARM64_REG_X30, UC_ARM64_REG_NZCV, UC_ARM64_REG_SP = 1, 2, 3, 4
UC_ARM64_REG_X0 = 199           # X0..X28 follow in order
UC_ARM64_REG_V0 = 228           # V0..V31 follow in order
UC_ARM64_REG_PC, UC_ARM64_REG_CPACR_EL1, UC_ARM64_REG_TPIDR_EL0 = 260, 261, 262
UC_ARM64_REG_PSTATE = 265
UC_ARM64_REG_CP_REG, UC_ARM64_REG_FPCR, UC_ARM64_REG_FPSR = 290, 291, 292
for _n in range(1, 29):
    globals()["UC_ARM64_REG_X%d" % _n] = UC_ARM64_REG_X0 + _n

# Every constant above, by name: what the binding must agree on (the test,
# and the fallback, which takes these names from it).
CONSTANTS = tuple(name for name in list(globals()) if name.startswith("UC_"))

uc_hook_h = ctypes.c_size_t


class uc_tb(ctypes.Structure):
    """struct uc_tb: a translated block (UC_HOOK_EDGE_GENERATED)."""
    _fields_ = (("pc", ctypes.c_uint64), ("icount", ctypes.c_uint16), ("size", ctypes.c_uint16))


class uc_tlb_entry(ctypes.Structure):
    """struct uc_tlb_entry: a TLB fill's answer."""
    _fields_ = (("paddr", ctypes.c_uint64), ("perms", ctypes.c_uint32))


class UcRegCP64(ctypes.Structure):
    """uc_arm64_cp_reg: a system register by its encoding (UC_ARM64_REG_CP_REG)."""
    _fields_ = (("crn", ctypes.c_uint32), ("crm", ctypes.c_uint32), ("op0", ctypes.c_uint32),
                ("op1", ctypes.c_uint32), ("op2", ctypes.c_uint32), ("val", ctypes.c_uint64))


_void_p, _u32, _u64, _s32 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32
HOOK_CODE_CFUNC = ctypes.CFUNCTYPE(None, _void_p, _u64, _u32, _void_p)
HOOK_MEM_ACCESS_CFUNC = ctypes.CFUNCTYPE(None, _void_p, ctypes.c_int, _u64, ctypes.c_int,
                                         ctypes.c_int64, _void_p)
HOOK_EDGE_GEN_CFUNC = ctypes.CFUNCTYPE(None, _void_p, ctypes.POINTER(uc_tb),
                                       ctypes.POINTER(uc_tb), _void_p)
HOOK_TLB_FILL_CFUNC = ctypes.CFUNCTYPE(ctypes.c_bool, _void_p, _u64, ctypes.c_int,
                                       ctypes.POINTER(uc_tlb_entry), _void_p)
HOOK_MEM_INVALID_CFUNC = ctypes.CFUNCTYPE(ctypes.c_bool, _void_p, ctypes.c_int, _u64,
                                          ctypes.c_int, ctypes.c_int64, _void_p)

# (name, restype, argtypes) of the functions called with Python ints.
_PROTOTYPES = (
    ("uc_version", _u32, (_void_p, _void_p)),
    ("uc_open", ctypes.c_int, (_u32, _u32, ctypes.POINTER(_void_p))),
    ("uc_close", ctypes.c_int, (_void_p,)),
    ("uc_strerror", ctypes.c_char_p, (ctypes.c_int,)),
    ("uc_context_size", ctypes.c_size_t, (_void_p,)),
    ("uc_ctl", ctypes.c_int, (_void_p, _s32)),         # variadic after these two
    ("uc_emu_start", ctypes.c_int, (_void_p, _u64, _u64, _u64, ctypes.c_size_t)),
    ("uc_emu_stop", ctypes.c_int, (_void_p,)),
    ("uc_hook_add", ctypes.c_int, (_void_p, ctypes.POINTER(uc_hook_h), _s32, _void_p, _void_p,
                                   _u64, _u64)),
    ("uc_hook_del", ctypes.c_int, (_void_p, uc_hook_h)),
    ("uc_mem_map", ctypes.c_int, (_void_p, _u64, _u64, _u32)),
    ("uc_mem_map_ptr", ctypes.c_int, (_void_p, _u64, _u64, _u32, _void_p)),
    ("uc_mem_write", ctypes.c_int, (_void_p, _u64, ctypes.c_char_p, _u64)),
    ("uc_reg_read", ctypes.c_int, (_void_p, _s32, _void_p)),
    ("uc_reg_write", ctypes.c_int, (_void_p, _s32, _void_p)),
)


def library_path():
    """libunicorn in the installed package's lib/ (where the binding looks
    first), found without running the package; None if it is not there."""
    spec = importlib.util.find_spec("unicorn")
    if spec is None or not spec.submodule_search_locations:
        return None
    for directory in spec.submodule_search_locations:
        for name in _LIB_NAMES:
            path = os.path.join(directory, "lib", name)
            if os.path.exists(path):
                return path
    return None


def _open_library():
    """The library with our prototypes, or None if it is missing or not
    the version of the constants above."""
    path = library_path()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        for name, restype, argtypes in _PROTOTYPES:
            func = getattr(lib, name)
            func.restype, func.argtypes = restype, argtypes
    except (OSError, AttributeError):
        return None
    v = lib.uc_version(None, None)
    return lib if (v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF) == VERSION else None


class UcError(Exception):
    """An error code of libunicorn's (the binding's UcError, in short)."""

    def __init__(self, errno):
        super().__init__(uclib.uc_strerror(errno).decode())
        self.errno = errno


def _check(err):
    if err:
        raise UcError(err)


class Engine:
    """The part of the binding's Uc (an AArch64 one) that the cores call,
    with its names and arguments."""

    def __init__(self, arch, mode):
        self._uch = ctypes.c_void_p()
        _check(uclib.uc_open(arch, mode, ctypes.byref(self._uch)))

    def __del__(self):
        if self._uch:
            uclib.uc_close(self._uch)
            self._uch = ctypes.c_void_p()

    def _ctl_write(self, ctl, *args):
        # uc_ctl's code: UC_CTL_IO_WRITE << 30 | number of arguments << 26 | ctl
        _check(uclib.uc_ctl(self._uch, (UC_CTL_IO_WRITE << 30) | (len(args) << 26) | ctl, *args))

    def ctl_set_cpu_model(self, model):
        self._ctl_write(UC_CTL_CPU_MODEL, ctypes.c_int(model))

    def ctl_set_page_size(self, size):
        self._ctl_write(UC_CTL_UC_PAGE_SIZE, ctypes.c_uint32(size))

    def ctl_set_tlb_mode(self, mode):
        self._ctl_write(UC_CTL_TLB_TYPE, ctypes.c_uint(mode))

    def ctl_exits_enabled(self, enable):
        self._ctl_write(UC_CTL_UC_USE_EXITS, ctypes.c_int(enable))

    def ctl_flush_tb(self):
        self._ctl_write(UC_CTL_TB_FLUSH)

    def mem_map(self, address, size, perms=UC_PROT_ALL):
        _check(uclib.uc_mem_map(self._uch, address, size, perms))

    def mem_map_ptr(self, address, size, perms, ptr):
        _check(uclib.uc_mem_map_ptr(self._uch, address, size, perms, ptr))

    def mem_write(self, address, data):
        data = bytes(data)
        _check(uclib.uc_mem_write(self._uch, address, data, len(data)))

    def reg_read(self, reg):
        """A 64-bit register, or a V register's 128 bits, as an int."""
        if UC_ARM64_REG_V0 <= reg < UC_ARM64_REG_V0 + 32:
            buf = (ctypes.c_uint8 * 16)()
            _check(uclib.uc_reg_read(self._uch, reg, buf))
            return int.from_bytes(bytes(buf), "little")
        value = ctypes.c_uint64()
        _check(uclib.uc_reg_read(self._uch, reg, ctypes.byref(value)))
        return value.value

    def reg_write(self, reg, value):
        if UC_ARM64_REG_V0 <= reg < UC_ARM64_REG_V0 + 32:
            buf = (ctypes.c_uint8 * 16).from_buffer_copy(value.to_bytes(16, "little"))
            _check(uclib.uc_reg_write(self._uch, reg, buf))
            return
        _check(uclib.uc_reg_write(self._uch, reg, ctypes.byref(ctypes.c_uint64(value))))

    def cpr_read(self, op0, op1, crn, crm, op2):
        reg = UcRegCP64(crn, crm, op0, op1, op2, 0)
        _check(uclib.uc_reg_read(self._uch, UC_ARM64_REG_CP_REG, ctypes.byref(reg)))
        return reg.val

    def cpr_write(self, op0, op1, crn, crm, op2, value):
        reg = UcRegCP64(crn, crm, op0, op1, op2, value)
        _check(uclib.uc_reg_write(self._uch, UC_ARM64_REG_CP_REG, ctypes.byref(reg)))


def _from_binding():
    """Everything above from Unicorn's binding instead (another version, or
    a library kept elsewhere): its Uc, its library, its constants."""
    from emu.fast_import import import_unicorn
    import_unicorn()
    import unicorn
    from unicorn import arm64_const, unicorn_const
    from unicorn.unicorn_py3 import unicorn as binding
    from unicorn.unicorn_py3.arch.arm64 import UcRegCP64 as cp_reg
    names = {name: getattr(unicorn_const, name, None) for name in CONSTANTS}
    names.update({name: getattr(arm64_const, name) for name in CONSTANTS
                  if names[name] is None})
    names.update(Engine=unicorn.Uc, uclib=binding.uclib, UcError=unicorn.UcError,
                 uc_hook_h=binding.uc_hook_h, uc_tb=binding.uc_tb,
                 uc_tlb_entry=binding.uc_tlb_entry, UcRegCP64=cp_reg,
                 HOOK_CODE_CFUNC=binding.HOOK_CODE_CFUNC,
                 HOOK_MEM_ACCESS_CFUNC=binding.HOOK_MEM_ACCESS_CFUNC,
                 HOOK_EDGE_GEN_CFUNC=binding.HOOK_EDGE_GEN_CFUNC,
                 HOOK_TLB_FILL_CFUNC=binding.HOOK_TLB_FILL_CFUNC,
                 HOOK_MEM_INVALID_CFUNC=binding.HOOK_MEM_INVALID_CFUNC,
                 LIBRARY_VERSION=unicorn.__version__, THIN=False)
    return names


uclib = _open_library()
THIN = uclib is not None            # False: everything came from the binding
if THIN:
    LIBRARY_VERSION = "%d.%d.%d" % VERSION
else:
    globals().update(_from_binding())
