"""A GDB remote-protocol server for the board's program (`a53emu run --gdb PORT`).

Linux's own gdbstub (kernel/debug/gdbstub.c) debugs the kernel; this one
does what gdbserver does for a user process, from outside it: gdb connects
to 127.0.0.1:PORT and sees the program stopped at its first instruction,
one GDB thread per thread of the process.  Registers come from each
thread's saved context (or the core it occupies), memory through the
process's page tables (faulting pages in, as ptrace's access_process_vm
does), breakpoints and watchpoints are Unicorn hooks on the cores, and
`info proc mappings` reads /proc/PID/maps through vFile.

All-stop: when a thread stops, no core runs until gdb resumes.  A step
runs one instruction of one thread; the other threads keep running with
it (gdb's default `set scheduler-locking replay`).  With
`Qqemu.PhyMemMode:1` (as QEMU's stub) memory reads and writes go to the
board's RAM by physical address, and TTBR0_EL1 and TCR_EL1 are readable
registers, so page-table walkers such as gdb-pt-dump can follow the real
tables.  Child processes are not followed (like `detach-on-fork on`).

The protocol: packets `$data#cs` acknowledged with `+`; a byte 0x03 while
the program runs is an interrupt.  Anything gdb sends that we do not know
gets the empty reply, as the protocol says.
"""

import os
import socket
import struct

from emu.cpu import CTX_FPCR, CTX_FPSR, CTX_NZCV, CTX_PC, CTX_SP, CTX_TPIDR, V_REG_BYTES
from kernel.fs.proc import Entry, PseudoError, pseudo_open, pseudo_read, pseudo_resolve
from kernel.sched.task import TASK_RUNNING
from kernel.uaccess import Efault
from kernel.uapi import O_RDONLY, SIGINT, SIGKILL, SIGTRAP

PACKET_SIZE = 0x4000
INTERRUPT = b"\x03"

# TCR_EL1 as Linux 4.14 programs it for 4 KiB pages: T0SZ = 64 - VA_BITS,
# IRGN0/ORGN0 write-back, SH0 inner shareable, TG0 4 KiB, 48-bit IPS, TBI0, AS.
TCR_TG0_4K_IRGN_ORGN_WBWA_SH0_INNER = (1 << 8) | (1 << 10) | (3 << 12)
TCR_IPS_48BIT = 5 << 32
TCR_AS_16BIT_ASID = 1 << 36
TCR_TBI0 = 1 << 37

# The target description: register numbers are their order here.
CORE_REGS = ["x%d" % i for i in range(31)] + ["sp", "pc"]
REG_CPSR = 33
REG_V0 = 34
REG_FPSR, REG_FPCR, REG_TPIDR, REG_TTBR0, REG_TCR = 66, 67, 68, 69, 70
NUM_REGS = 71

TARGET_XML = """<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>aarch64</architecture>
<osabi>GNU/Linux</osabi>
<feature name="org.gnu.gdb.aarch64.core">
%(core)s
<reg name="cpsr" bitsize="32" type="int"/>
</feature>
<feature name="org.gnu.gdb.aarch64.fpu">
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v2u" type="uint64" count="2"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v4u" type="uint32" count="4"/>
<vector id="v8u" type="uint16" count="8"/>
<vector id="v16u" type="uint8" count="16"/>
<union id="vnd"><field name="f" type="v2d"/><field name="u" type="v2u"/></union>
<union id="vns"><field name="f" type="v4f"/><field name="u" type="v4u"/></union>
<union id="aarch64v">
<field name="d" type="vnd"/><field name="s" type="vns"/>
<field name="h" type="v8u"/><field name="b" type="v16u"/><field name="q" type="uint128"/>
</union>
%(vregs)s
<reg name="fpsr" bitsize="32" type="int"/>
<reg name="fpcr" bitsize="32" type="int"/>
</feature>
<feature name="org.gnu.gdb.aarch64.tls">
<reg name="tpidr" bitsize="64" type="data_ptr"/>
</feature>
<feature name="org.a53emu.sysregs">
<reg name="TTBR0_EL1" bitsize="64" type="uint64" save-restore="no"/>
<reg name="TCR_EL1" bitsize="64" type="uint64" save-restore="no"/>
</feature>
</target>
""" % {"core": "\n".join('<reg name="%s" bitsize="64" type="%s"/>' % (
    name, "code_ptr" if name == "pc" else "data_ptr" if name == "sp" else "int")
    for name in CORE_REGS),
    "vregs": "\n".join('<reg name="v%d" bitsize="128" type="aarch64v"/>' % i for i in range(32))}


class GdbDisconnected(Exception):
    """gdb went away (EOF, reset, or a broken protocol)."""


class GdbStub:
    """One gdb connection debugging the board's init process."""

    def __init__(self, kernel, port, exe_path):
        self.kernel = kernel
        self.exe_path = exe_path
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.conn = None
        self.process = None         # init's task: whose thread group we debug
        self.pending = None         # (signal, task, extra) to report at the next stop
        self.step_task = None       # the thread that runs one instruction next
        self.skip_once = {}         # pid -> breakpoint address to step over on resume
        self.breakpoints = set()
        self.watchpoints = set()    # (addr, length, write, read)
        self.hit_watch = None
        self.g_task = None          # the thread 'g'/'m' refer to (Hg)
        self.phys_mode = False
        self.no_ack = False
        self.multiprocess = False
        self.detached = False
        self.files = {}             # vFile descriptor -> an open /proc File

    # -- the connection ------------------------------------------------------------

    def wait_for_gdb(self, init):
        """Accept gdb's connection; init stays stopped at its entry point."""
        self.process = init
        self.g_task = init
        self.conn, _ = self.listener.accept()
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.listener.close()
        self.pending = (SIGTRAP, init, "")
        self.resumed = False        # gdb asks for the first stop itself ('?')

    def _recv(self):
        data = self.conn.recv(PACKET_SIZE)
        if not data:
            raise GdbDisconnected()
        return data

    def read_packet(self):
        """The next packet's payload (an interrupt byte reads as b'\\x03')."""
        buf = b""
        while True:
            while b"$" not in buf:
                if INTERRUPT in buf:
                    return INTERRUPT
                buf = self._recv()
            buf = buf[buf.index(b"$"):]
            while b"#" not in buf or len(buf) < buf.index(b"#") + 3:
                buf += self._recv()
            end = buf.index(b"#")
            payload, checksum = buf[1:end], buf[end + 1:end + 3]
            ok = checksum.lower() == (b"%02x" % (sum(payload) & 0xFF))
            if not self.no_ack:
                self.conn.sendall(b"+" if ok else b"-")
            if ok:
                return unescape(payload)
            buf = buf[end + 3:]

    def send(self, payload):
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        self.conn.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xFF))
        if not self.no_ack:
            while True:
                ack = self.conn.recv(1)
                if not ack:
                    raise GdbDisconnected()
                if ack == b"+":
                    return
                if ack == b"-":
                    self.conn.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xFF))

    # -- what the scheduler calls ----------------------------------------------------

    def service(self):
        """Between slices: if the program stopped (or gdb interrupted it),
        report the stop and serve gdb until it resumes the program."""
        if self.detached:
            return
        if self.pending is None and self._interrupted():
            self.pending = (SIGINT, self.g_task if self._alive(self.g_task) else self.process, "")
        if self.pending is None:
            return
        try:
            if self.resumed:
                self.report_stop()
            self.command_loop()
        except (GdbDisconnected, OSError):
            self.detach()

    def slice_count(self, task, count):
        """The instruction count of task's next slice: 1 when it is stepping."""
        return 1 if task is self.step_task else count

    def after_slice(self, core, task):
        """A slice ended: a breakpoint, a watchpoint or a finished step is a stop."""
        if self.pending is not None or self.detached:
            return
        if task is self.step_task and (task.exit_state is not None or task.state == TASK_RUNNING):
            self.step_task = None
            if task.exit_state is None:
                self.pending = (SIGTRAP, task, "")

    def program_exited(self, status):
        """init has exited: tell gdb how (W: exit code, X: killed by a signal)."""
        if self.conn is None or self.detached:
            return
        how = "X%02x" % (status & 0x7F) if status & 0x7F else "W%02x" % (status >> 8 & 0xFF)
        if self.multiprocess:
            how += ";process:%x" % self.process.tgid
        try:
            self.send(how)
        except OSError:
            pass
        self.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.detached = True

    def detach(self):
        """D, or gdb gone: remove every breakpoint and let the program run on."""
        for addr in list(self.breakpoints):
            self._remove_break(addr)
        for key in list(self.watchpoints):
            self._remove_watch(key)
        self.step_task = None
        self.pending = None
        self.close()

    def _interrupted(self):
        """Has gdb sent an interrupt (Ctrl-C) while the program ran?  A
        closed connection detaches."""
        if self.conn is None:
            return False
        try:
            data = self.conn.recv(1, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self.detach()
            return False
        return data == INTERRUPT

    # -- hooks on the cores -----------------------------------------------------------

    def _on_break(self, core, addr):
        task = core.current
        if task is None or task.tgid != self.process.tgid or self.pending is not None:
            return False
        if self.skip_once.get(task.pid) == addr:
            del self.skip_once[task.pid]
            return False
        self.pending = (SIGTRAP, task, "swbreak:;")
        return True

    def _on_watch(self, core, addr):
        task = core.current
        if task is None or task.tgid != self.process.tgid or self.pending is not None:
            return False
        for a, length, write, read in self.watchpoints:
            if a <= addr < a + length:
                kind = "watch" if write and not read else "rwatch" if read and not write \
                    else "awatch"
                self.pending = (SIGTRAP, task, "%s:%x;" % (kind, a))
                return True
        return False

    def _insert_break(self, addr):
        self.breakpoints.add(addr)
        for core in self.kernel.board.cores:
            core.set_breakpoint(addr, self._on_break)

    def _remove_break(self, addr):
        self.breakpoints.discard(addr)
        for core in self.kernel.board.cores:
            core.clear_debug_hook(addr)

    def _insert_watch(self, key):
        self.watchpoints.add(key)
        for core in self.kernel.board.cores:
            core.set_watchpoint(*key, self._on_watch)

    def _remove_watch(self, key):
        self.watchpoints.discard(key)
        for core in self.kernel.board.cores:
            core.clear_debug_hook(key)

    # -- threads and registers -------------------------------------------------------------

    def threads(self):
        """The live threads of the debugged process, in pid order."""
        group = self.process.thread_group if self.process.exit_state is None else []
        return sorted((t for t in group if t.exit_state is None), key=lambda t: t.pid)

    def _alive(self, task):
        return task is not None and task.exit_state is None and task.tgid == self.process.tgid

    def ptid(self, task):
        """A thread's id as gdb spells it: pPID.TID with multiprocess, else TID."""
        if self.multiprocess:
            return "p%x.%x" % (task.tgid, task.pid)
        return "%x" % task.pid

    def _thread(self, text):
        """The task a thread-id field names (-1/0: any)."""
        if text in ("-1", "0", ""):
            return self.threads()[0] if self.threads() else None
        try:
            tid = int(text.split(".")[-1], 16)
        except ValueError:
            return None
        task = self.kernel.tasks.get(tid)
        return task if self._alive(task) else None

    def context_of(self, task):
        """(gp list, v bytes) of a thread: live on its core, or saved."""
        if task.core is not None:
            return task.core.save_context()
        gp, v = task.context
        return list(gp), v

    def set_context(self, task, gp, v):
        if task.core is not None:
            task.core.load_context((gp, v))
        else:
            task.context = (gp, v)

    def read_register(self, task, regno):
        """(value, size in bytes) of register regno."""
        gp, v = self.context_of(task)
        if regno < 31:
            return gp[regno], 8
        if regno == 31:
            return gp[CTX_SP], 8
        if regno == 32:
            return gp[CTX_PC], 8
        if regno == REG_CPSR:
            return gp[CTX_NZCV], 4      # EL0t: mode bits and DAIF are 0
        if REG_V0 <= regno < REG_V0 + 32:
            i = (regno - REG_V0) * V_REG_BYTES
            return int.from_bytes(v[i:i + V_REG_BYTES], "little"), 16
        if regno == REG_FPSR:
            return gp[CTX_FPSR], 4
        if regno == REG_FPCR:
            return gp[CTX_FPCR], 4
        if regno == REG_TPIDR:
            return gp[CTX_TPIDR], 8
        if regno == REG_TTBR0:
            return task.mm.ttbr0(), 8
        if regno == REG_TCR:
            return self.tcr_el1(), 8
        raise KeyError(regno)

    def write_register(self, task, regno, value):
        gp, v = self.context_of(task)
        slots = {31: CTX_SP, 32: CTX_PC, REG_CPSR: CTX_NZCV, REG_FPSR: CTX_FPSR,
                 REG_FPCR: CTX_FPCR, REG_TPIDR: CTX_TPIDR}
        if regno < 31:
            gp[regno] = value
        elif regno in slots:
            gp[slots[regno]] = value
        elif REG_V0 <= regno < REG_V0 + 32:
            i = (regno - REG_V0) * V_REG_BYTES
            v = v[:i] + value.to_bytes(V_REG_BYTES, "little") + v[i + V_REG_BYTES:]
        else:
            raise KeyError(regno)     # TTBR0_EL1 and TCR_EL1 are read-only here
        self.set_context(task, gp, v)

    def tcr_el1(self):
        mmu = self.kernel.board.mmu
        return ((64 - mmu.va_bits) | TCR_TG0_4K_IRGN_ORGN_WBWA_SH0_INNER | TCR_IPS_48BIT
                | TCR_AS_16BIT_ASID | TCR_TBI0)

    # -- memory --------------------------------------------------------------------------

    def read_memory(self, task, addr, length):
        if self.phys_mode:
            mem = self.kernel.memory
            if not mem.base <= addr and addr + length <= mem.end:
                raise Efault()
            return mem.read(addr, length)
        um = task.mm.uaccess
        data = um.peek(addr, length)
        return data if data is not None else um.copy_from_user(addr, length)

    def write_memory(self, task, addr, data):
        if self.phys_mode:
            mem = self.kernel.memory
            if not mem.base <= addr and addr + len(data) <= mem.end:
                raise Efault()
            mem.write(addr, data)
            return
        task.mm.uaccess.copy_to_user(addr, data)

    # -- the conversation ------------------------------------------------------------------

    def report_stop(self):
        sig, task, extra = self.pending
        if not self._alive(task):
            task = self.threads()[0]
        self.g_task = task
        self.send("T%02xthread:%s;%s" % (sig, self.ptid(task), extra))

    def command_loop(self):
        """Serve gdb until it resumes the program (or detaches, or kills it)."""
        while True:
            packet = self.read_packet()
            if packet == INTERRUPT:
                continue
            reply = self.handle(packet.decode("latin-1"))
            if reply is RESUME:
                self.pending = None
                self.resumed = True
                return
            if reply is not None:
                self.send(reply)
            if self.detached:
                return

    def handle(self, p):
        """One packet -> its reply (str), RESUME, or None (no reply)."""
        try:
            return self._dispatch(p)
        except (Efault, ValueError, KeyError, IndexError, TypeError):
            return "E01"

    def _dispatch(self, p):
        cmd = p[:1]
        task = self.g_task if self._alive(self.g_task) else self.threads()[0]
        if cmd == "?":
            sig, t, extra = self.pending or (SIGTRAP, task, "")
            return "T%02xthread:%s;" % (sig, self.ptid(t if self._alive(t) else task))
        if cmd == "g":
            return "".join(le_hex(*self.read_register(task, r)) for r in range(REG_FPCR + 1))
        if cmd == "G":
            return self._write_all_registers(task, p[1:])
        if cmd == "p":
            return le_hex(*self.read_register(task, int(p[1:], 16)))
        if cmd == "P":
            regno, value = p[1:].split("=")
            self.write_register(task, int(regno, 16), int.from_bytes(bytes.fromhex(value), "little"))
            return "OK"
        if cmd == "m":
            addr, length = (int(x, 16) for x in p[1:].split(","))
            return self.read_memory(task, addr, min(length, PACKET_SIZE // 2)).hex()
        if cmd in ("M", "X"):
            where, data = p[1:].split(":", 1)
            addr, length = (int(x, 16) for x in where.split(","))
            raw = bytes.fromhex(data) if cmd == "M" else data.encode("latin-1")
            self.write_memory(task, addr, raw[:length])
            return "OK"
        if cmd == "H":
            t = self._thread(p[2:])
            if t is None:
                return "E01"
            if p[1] == "g":
                self.g_task = t
            return "OK"
        if cmd == "T":
            return "OK" if self._thread(p[1:]) is not None else "E01"
        if cmd in ("Z", "z"):
            return self._breakpoint_packet(cmd == "Z", p[1:])
        if cmd in ("c", "C"):
            return self.resume(None)
        if cmd in ("s", "S"):
            return self.resume(task)
        if cmd == "D":
            self.send("OK")
            self.detach()
            return None
        if cmd == "k":
            self.kill()
            return None
        if cmd == "q":
            return self._query(p)
        if cmd == "Q":
            return self._set(p)
        if cmd == "v":
            return self._v_packet(p)
        return ""

    def _write_all_registers(self, task, hexdata):
        data = bytes.fromhex(hexdata)
        pos = 0
        for regno in range(REG_FPCR + 1):
            size = self.read_register(task, regno)[1]
            if pos + size > len(data):
                break
            self.write_register(task, regno, int.from_bytes(data[pos:pos + size], "little"))
            pos += size
        return "OK"

    def _breakpoint_packet(self, insert, args):
        kind, addr, length = args.split(",")[:3]
        addr, length = int(addr, 16), int(length, 16)
        if kind in ("0", "1"):          # software and hardware breakpoints alike
            (self._insert_break if insert else self._remove_break)(addr)
            return "OK"
        if kind in ("2", "3", "4"):
            key = (addr, max(length, 1), kind in ("2", "4"), kind in ("3", "4"))
            (self._insert_watch if insert else self._remove_watch)(key)
            return "OK"
        return ""

    def resume(self, step_task):
        """Continue (or step one thread); a thread resuming at a breakpoint
        steps over it first."""
        self.step_task = step_task
        for t in self.threads():
            gp, _ = self.context_of(t)
            if gp[CTX_PC] in self.breakpoints:
                self.skip_once[t.pid] = gp[CTX_PC]
        return RESUME

    def kill(self):
        from kernel.signal import kill_info, send_signal
        self.detach()
        if self.process.exit_state is None:
            send_signal(self.process, kill_info(self.process, SIGKILL), group=True)

    def _query(self, p):
        if p.startswith("qSupported"):
            # Multiprocess thread ids (pPID.TID) tell gdb the pid, which
            # `info proc` needs.
            self.multiprocess = "multiprocess+" in p
            return ("PacketSize=%x;qXfer:features:read+;qXfer:auxv:read+;"
                    "qXfer:exec-file:read+;qXfer:threads:read+;QStartNoAckMode+;"
                    "swbreak+;hwbreak+;vContSupported+%s" % (
                        PACKET_SIZE, ";multiprocess+" if self.multiprocess else ""))
        if p == "qAttached" or p.startswith("qAttached:"):
            return "0"
        if p == "qC":
            return "QC" + self.ptid(self.g_task)
        if p == "qfThreadInfo":
            return "m" + ",".join(self.ptid(t) for t in self.threads())
        if p == "qsThreadInfo":
            return "l"
        if p.startswith("qXfer:"):
            return self._xfer(p)
        if p == "qqemu.PhyMemMode":
            return "1" if self.phys_mode else "0"
        if p.startswith("qThreadExtraInfo,"):
            t = self._thread(p.split(",")[1])
            return ("%s core %s" % (t.comm, t.core.index if t.core is not None else "-")
                    ).encode().hex() if t else "E01"
        if p == "qOffsets":
            return "Text=0;Data=0;Bss=0"
        return ""

    def _set(self, p):
        if p == "QStartNoAckMode":
            self.send("OK")
            self.no_ack = True
            return None
        if p.startswith("Qqemu.PhyMemMode:"):
            self.phys_mode = p.endswith(":1")
            return "OK"
        return ""

    def _xfer(self, p):
        """qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH."""
        parts = p.split(":")
        obj, op, annex, span = parts[1], parts[2], parts[3], parts[4]
        if op != "read":
            return ""
        offset, length = (int(x, 16) for x in span.split(","))
        if obj == "features" and annex == "target.xml":
            data = TARGET_XML.encode()
        elif obj == "auxv":
            data = b"".join(struct.pack("<QQ", k, v) for k, v in self.process.mm.saved_auxv or ())
        elif obj == "exec-file":
            data = self.exe_path.encode()
        elif obj == "threads":
            data = ("<?xml version=\"1.0\"?>\n<threads>\n" + "".join(
                '<thread id="%s" core="%d" name="%s"/>\n' % (
                    self.ptid(t), t.core.index if t.core is not None else t.last_cpu, t.comm)
                for t in self.threads()) + "</threads>\n").encode()
        else:
            return ""
        chunk = data[offset:offset + length]
        return ("l" if offset + length >= len(data) else "m") + chunk.decode("latin-1")

    def _v_packet(self, p):
        if p == "vCont?":
            return "vCont;c;C;s;S"
        if p.startswith("vCont;"):
            step = None
            for action in p[6:].split(";"):
                kind, _, tid = action.partition(":")
                if kind in ("s", "S"):
                    step = self._thread(tid) if tid else self.g_task
            return self.resume(step)
        if p.startswith("vKill"):
            self.kill()
            return None
        if p.startswith("vFile:"):
            return self._vfile(p[6:])
        if p == "vMustReplyEmpty":
            return ""
        return ""

    def _vfile(self, p):
        """Host I/O on the board's files, enough for `info proc mappings`:
        /proc files of the board are served, everything else is ENOENT."""
        op, _, args = p.partition(":")
        if op == "setfs":
            return "F0"
        if op == "open":
            path = bytes.fromhex(args.split(",")[0]).decode("latin-1")
            try:
                entry = pseudo_resolve(self.kernel, self.process, os.path.normpath(path))
            except PseudoError:
                entry = None
            if not isinstance(entry, Entry) or entry.kind != "file":
                return "F-1,2"          # ENOENT
            fd = max(self.files, default=0) + 1
            self.files[fd] = pseudo_open(self.kernel, self.process, entry, O_RDONLY, path)
            return "F%x" % fd
        if op == "pread":
            fd, count, offset = (int(x, 16) for x in args.split(","))
            if fd not in self.files:
                return "F-1,9"          # EBADF
            data = pseudo_read(self.files[fd], min(count, PACKET_SIZE // 2), offset)
            if isinstance(data, int):
                return "F-1,%x" % -data
            return "F%x;" % len(data) + escape(data).decode("latin-1")
        if op == "close":
            return "F0" if self.files.pop(int(args, 16), None) is not None else "F-1,9"
        return ""


RESUME = object()


def le_hex(value, size):
    """A register as gdb wants it: little-endian bytes in hex."""
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little").hex()


def unescape(data):
    """Undo the protocol's escaping: }X stands for X ^ 0x20."""
    if b"}" not in data:
        return data
    out = bytearray()
    it = iter(data)
    for b in it:
        out.append(next(it) ^ 0x20 if b == 0x7D else b)
    return bytes(out)


def escape(data):
    """Escape #, $, } and * for binary replies."""
    out = bytearray()
    for b in data:
        if b in b"#$}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)

