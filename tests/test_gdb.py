"""`a53emu run --gdb PORT`: Debian's gdb-multiarch debugs the board's
program in batch mode — break, step, print, memory, mappings, threads,
watchpoints, the page tables through Qqemu.PhyMemMode, exit — and a raw
client checks interrupts, kill and a client that sends garbage and goes."""

import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, emu_env, userland_path

GDB = shutil.which("gdb-multiarch")
pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed "
                                "(apt-get install gdb-multiarch; .ci/run does)")


def start(args):
    """a53emu run --gdb 0 ARGS, and the port it listens on."""
    p = subprocess.Popen([sys.executable, "-m", "emu", "run", "--gdb", "0"] + [str(a) for a in args],
                         cwd=ROOT, env=emu_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stderr.readline().decode()
    m = re.search(r"waiting for gdb on 127\.0\.0\.1:(\d+)", line)
    assert m, line
    return p, int(m.group(1))


def finish(p):
    out, err = p.communicate(timeout=60)
    return p.returncode, out.decode(), err.decode()


def gdb(prog, port, commands):
    args = [GDB, "-q", "-batch", "-nx", "-ex", "set pagination off", "-ex", "file %s" % prog,
            "-ex", "target remote 127.0.0.1:%d" % port]
    for c in commands:
        args += ["-ex", c]
    r = subprocess.run(args, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return r.stdout.decode() + r.stderr.decode()


def test_a_debugging_session(libc):
    prog = userland_path(libc, "gdb_target")
    p, port = start([prog])
    out = gdb(prog, port, [
        "break add", "continue", "bt", "print a", "print b", "next", "print sum",
        "x/s greeting", "info proc mappings", "info threads",
        "break worker", "continue", "info threads", "delete",
        "watch watched", "continue", "continue"])
    status, stdout, _ = finish(p)
    assert "Breakpoint 1, add (a=41, b=1)" in out
    assert re.search(r"#1 .* in main \(", out)
    assert "$1 = 41" in out and "$2 = 1" in out and "$3 = 42" in out
    assert '"hello from the board"' in out
    assert re.search(r"0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+r-xp\s+\S*gdb_target",
                     out)
    assert "[stack]" in out
    assert re.search(r"hit Breakpoint 2, worker", out)
    assert len(re.findall(r'Thread 1\.\d+ "gdb_target"', out.split("hit Breakpoint 2")[1])) >= 2
    assert "Old value = 41" in out and "New value = 42" in out
    assert "exited with code 07" in out
    assert status == 7
    assert stdout == "hello from the board: local=42 thread=42\n"


def test_page_tables_through_physical_memory_mode():
    """TTBR0_EL1 is readable; with Qqemu.PhyMemMode:1 the first level-0
    descriptor read at its table address is a table descriptor (0b11)."""
    prog = userland_path("glibc", "gdb_target")
    p, port = start([prog])
    out = gdb(prog, port, ["break main", "continue", "p/x $TTBR0_EL1",
                           "maint packet Qqemu.PhyMemMode:1",
                           "x/gx $TTBR0_EL1 & 0xfffffffff000",
                           "maint packet Qqemu.PhyMemMode:0", "kill"])
    status, _, err = finish(p)
    ttbr = int(re.search(r"\$1 = (0x[0-9a-f]+)", out).group(1), 16)
    assert ttbr >> 48 >= 1                              # an ASID by now
    desc = int(re.search(r"0x[0-9a-f]+:\s+(0x[0-9a-f]+)", out).group(1), 16)
    assert desc & 3 == 3 and desc & 0xFFFFFFFFF000
    assert status == 137 and "killed by SIGKILL" in err


def packet(data):
    return b"$%s#%02x" % (data, sum(data) & 0xFF)


def read_reply(sock):
    buf = b""
    while not re.search(rb"\$([^#]*)#..", buf):
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError
        buf += chunk
    return re.search(rb"\$([^#]*)#..", buf).group(1)


def test_interrupt_then_kill():
    """A raw client: continue a spinning program, interrupt it (0x03):
    it stops with SIGINT; kill ends the run."""
    p, port = start([userland_path("musl", "gdb_target"), "spin"])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(packet(b"?"))
        assert read_reply(s).startswith(b"T05")
        s.sendall(b"+" + packet(b"c"))
        time.sleep(0.5)
        s.sendall(b"\x03")
        assert read_reply(s).startswith(b"T02")
        s.sendall(b"+" + packet(b"k"))
        time.sleep(0.2)
    status, _, _ = finish(p)
    assert status == 137


def test_garbage_then_disconnect_detaches():
    """Bytes that are no packet, then a vanished client: the program is
    detached and runs to its end."""
    p, port = start([userland_path("musl", "gdb_target")])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"garbage$nonsense#zz" + packet(b"qNoSuchThing"))
        assert read_reply(s) == b""
    status, out, _ = finish(p)
    assert status == 7
    assert out == "hello from the board: local=42 thread=42\n"


def test_bad_port():
    r = subprocess.run([sys.executable, "-m", "emu", "run", "--gdb", "70000",
                        str(userland_path("musl", "hello"))], cwd=ROOT, env=emu_env(),
                       capture_output=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.decode().strip() == "a53emu: --gdb wants a TCP port (0-65535)"
