"""A small Debian bookworm arm64 root for the distribution tests.

`ensure_root()` downloads Debian's own arm64 packages (busybox-static, and
coreutils with the libraries it is linked against) with apt, verifies them
against the archive's signed indices, and unpacks them with `dpkg-deb -x`
into build/debian-arm64/root, the --sysroot of tests/test_distro.py.

The machine's apt configuration is never touched: apt runs with private
state (its own sources.list, lists, cache and an empty dpkg status) under
build/debian-arm64/, and may run as any user.  The mirror is the one the
machine's own apt sources name (or $A53EMU_DEBIAN_MIRROR), never a name
written here; signatures are checked with the keyring those sources name.

A second call finds the stamp left by the first and does not touch the
network.  Failures raise Unavailable with a sentence a test can use as its
skip reason (or, in CI, its failure message).
"""

import fcntl
import glob
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "build" / "debian-arm64"

SUITE = "bookworm"
COMPONENT = "main"
ARCH = "arm64"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# The packages asked for; their Depends/Pre-Depends closure is added by
# resolve_closure() from the archive's own metadata.
ROOT_PACKAGES = ("busybox-static", "coreutils", "make")

# Bumped when the layout of the unpacked root changes, so old caches are redone.
LAYOUT_VERSION = 2         # 2: merged /usr
STAMP = ".a53emu-debian-arm64.json"

APT_TIMEOUT = 600


class Unavailable(Exception):
    """The distribution root cannot be made here (no apt, no network, no package)."""


# --- the machine's apt sources -----------------------------------------------

def _deb822_stanzas(text):
    """The stanzas of a deb822 .sources file as dicts (field names lower-case)."""
    stanzas, cur, key = [], {}, None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                stanzas.append(cur)
            cur, key = {}, None
            continue
        if line[0] in " \t" and key is not None:
            cur[key] += " " + line.strip()
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        cur[key] = value.strip()
    if cur:
        stanzas.append(cur)
    return stanzas


def _one_line_entries(text):
    """`deb [opts] URI SUITE COMP...` lines of a sources.list as dicts like deb822's."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        opts = ""
        m = re.match(r"(\S+)\s+\[([^\]]*)\]\s+(.*)", line)
        if m:
            kind, opts, rest = m.groups()
        else:
            kind, _, rest = line.partition(" ")
        words = rest.split()
        if len(words) < 3:
            continue
        entry = {"types": kind, "uris": words[0], "suites": words[1],
                 "components": " ".join(words[2:])}
        for opt in opts.split():
            name, _, value = opt.partition("=")
            if name.lower() == "signed-by":
                entry["signed-by"] = value
        entries.append(entry)
    return entries


def machine_sources(etc="/etc/apt"):
    """Every `deb` entry of the machine's apt sources (deb822 and one-line)."""
    entries = []
    for path in sorted(glob.glob(os.path.join(etc, "sources.list.d", "*.sources"))):
        with open(path) as f:
            entries += _deb822_stanzas(f.read())
    one_line = [os.path.join(etc, "sources.list")]
    one_line += sorted(glob.glob(os.path.join(etc, "sources.list.d", "*.list")))
    for path in one_line:
        if os.path.exists(path):
            with open(path) as f:
                entries += _one_line_entries(f.read())
    return [e for e in entries
            if "deb" in e.get("types", "").split() and e.get("enabled", "yes").lower() != "no"]


def debian_mirror(etc="/etc/apt"):
    """(mirror URI, keyring) for Debian bookworm main, from the machine's sources.

    Preference: an entry naming the suite bookworm with component main; else
    an entry signed by the Debian archive keyring for a release (a suite
    without a -security/-updates part: a Debian mirror carries every release,
    the security archive does not).  $A53EMU_DEBIAN_MIRROR overrides the
    URI.  Raises Unavailable when the machine names no Debian mirror.
    """
    override = os.environ.get("A53EMU_DEBIAN_MIRROR")
    if override:
        return override, DEBIAN_KEYRING
    entries = [e for e in machine_sources(etc) if COMPONENT in e.get("components", "").split()]
    named = [e for e in entries if SUITE in e.get("suites", "").split()]
    debian = [e for e in entries if "debian-archive-keyring" in e.get("signed-by", "")
              and any("-" not in suite for suite in e.get("suites", "").split())]
    if named or debian:
        entry = (named + debian)[0]
        keyring = entry.get("signed-by", "")
        if not keyring.startswith("/"):      # no Signed-By (or an inline key): Debian's keyring
            keyring = DEBIAN_KEYRING
        return entry["uris"].split()[0], keyring
    raise Unavailable("the machine's apt sources name no Debian mirror with %s %s "
                      "(set A53EMU_DEBIAN_MIRROR to one)" % (SUITE, COMPONENT))


# --- apt with private state --------------------------------------------------

class PrivateApt:
    """apt-get / apt-cache for arm64 with all their state under `top`."""

    def __init__(self, top, mirror, keyring):
        self.top = Path(top)
        self.mirror = mirror
        self.keyring = keyring

    def options(self):
        t = self.top
        return [
            "-oAPT::Architecture=" + ARCH, "-oAPT::Architectures=" + ARCH,
            "-oDir::State::Lists=%s" % (t / "lists"),
            "-oDir::State::status=%s" % (t / "status"),     # empty: nothing installed
            "-oDir::Cache=%s" % (t / "cache"),
            "-oDir::Etc::SourceList=%s" % (t / "sources.list"),
            "-oDir::Etc::SourceParts=/nonexistent",
            "-oDir::Etc::Preferences=/nonexistent",            # the host's pinning is not ours
            "-oDir::Etc::PreferencesParts=/nonexistent",
            "-oDebug::NoLocking=1",
            # The files are ours, not the _apt user's: download as ourselves.
            "-oAPT::Sandbox::User=%s" % _user_name(),
        ]

    def prepare(self):
        """Write sources.list and the empty directories apt expects."""
        for sub in ("lists/partial", "cache/archives/partial", "debs"):
            (self.top / sub).mkdir(parents=True, exist_ok=True)
        (self.top / "status").write_text("")
        (self.top / "sources.list").write_text(
            "deb [arch=%s signed-by=%s] %s %s %s\n"
            % (ARCH, self.keyring, self.mirror, SUITE, COMPONENT))

    def run(self, tool, *args, cwd=None):
        try:
            r = subprocess.run([tool] + self.options() + list(args), cwd=cwd or self.top,
                               capture_output=True, text=True, timeout=APT_TIMEOUT,
                               env=dict(os.environ, LC_ALL="C"))
        except FileNotFoundError:
            raise Unavailable("%s is not installed" % tool)
        except subprocess.TimeoutExpired:
            raise Unavailable("%s %s took more than %d s" % (tool, args[0], APT_TIMEOUT))
        return r

    def update(self):
        r = self.run("apt-get", "update")
        # apt-get update exits 0 after some failed fetches; the W:/E: lines say so.
        failed = [l for l in r.stderr.splitlines() if l.startswith(("E:", "W:", "Err:"))]
        failed += [l for l in r.stdout.splitlines() if l.startswith("Err:")]
        if r.returncode != 0 or failed:
            raise Unavailable("apt-get update of %s %s/%s failed: %s"
                              % (self.mirror, SUITE, ARCH, " | ".join(failed) or r.stderr.strip()))

    def show(self, packages):
        """{package: control fields of its candidate version}, one apt-cache call."""
        r = self.run("apt-cache", "show", "--no-all-versions", *packages)
        found = {f.get("package"): f for f in _deb822_stanzas(r.stdout)}
        missing = [p for p in packages if p not in found]
        if missing:
            raise Unavailable("%s not found for %s in %s %s: %s"
                              % (", ".join(missing), ARCH, self.mirror, SUITE, r.stderr.strip()))
        return found

    def download(self, packages):
        r = self.run("apt-get", "download", *packages, cwd=self.top / "debs")
        if r.returncode != 0:
            raise Unavailable("apt-get download %s failed: %s"
                              % (" ".join(packages), r.stderr.strip()))


def _user_name():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def dependency_names(fields):
    """Package names in Depends and Pre-Depends (first alternative of each)."""
    names = []
    for field in ("pre-depends", "depends"):
        for clause in fields.get(field, "").split(","):
            first = clause.split("|")[0].strip()
            if first:
                names.append(re.split(r"[\s(:]", first, 1)[0])
    return names


def resolve_closure(apt, roots):
    """{package: control fields} for roots and everything they depend on
    (breadth first, one apt-cache call per level)."""
    found, level = {}, list(roots)
    while level:
        found.update(apt.show(level))
        level = sorted({d for name in level for d in dependency_names(found[name])} - set(found))
    return found


# --- unpacking ---------------------------------------------------------------

def unpack(debs, root):
    """`dpkg-deb -x` every .deb into root, then what an installed system has
    that no file of these packages provides: the merged /usr of bookworm
    (/bin, /sbin and /lib are links into /usr, so a program is found under
    either name, as usrmerge arranges) and /bin/sh (busybox's shell, as a
    busybox-based system links it)."""
    root.mkdir(parents=True)
    for deb in debs:
        try:
            r = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)],
                               capture_output=True, text=True)
        except FileNotFoundError:
            raise Unavailable("dpkg-deb is not installed")
        if r.returncode != 0:
            raise Unavailable("dpkg-deb -x %s failed: %s" % (deb.name, r.stderr.strip()))
    for top in ("bin", "sbin", "lib"):
        merge_usr(root, top)
    os.symlink("busybox", root / "bin" / "sh")


def merge_usr(root, top):
    """Move root/TOP's files into root/usr/TOP and make TOP a link to it."""
    src, dst = root / top, root / "usr" / top
    if src.is_dir() and not src.is_symlink():
        _merge_tree(src, dst)
    dst.mkdir(parents=True, exist_ok=True)
    os.symlink("usr/" + top, src)


def _merge_tree(src, dst):
    """Move src's entries into dst (directories in both are merged); src goes."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        target = dst / entry.name
        if entry.is_dir() and not entry.is_symlink() and target.is_dir() \
                and not target.is_symlink():
            _merge_tree(entry, target)
        elif target.exists() or target.is_symlink():
            raise Unavailable("usrmerge: %s is in both trees" % target)
        else:
            os.rename(entry, target)
    src.rmdir()


def _read_stamp(cache):
    try:
        with open(cache / "root" / STAMP) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ensure_root(cache=CACHE, roots=ROOT_PACKAGES):
    """The unpacked arm64 root (a Path), downloading and unpacking it once.

    Returns the root of a previous call at once when its stamp names the same
    packages.  Safe to call from several pytest-xdist workers at the same time
    (a lock file serializes them).  Raises Unavailable.
    """
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = _read_stamp(cache)
        if stamp and stamp.get("roots") == list(roots) and stamp.get("layout") == LAYOUT_VERSION:
            return cache / "root"
        mirror, keyring = debian_mirror()
        if not os.path.exists(keyring):
            raise Unavailable("the archive keyring %s is missing "
                              "(apt-get install debian-archive-keyring)" % keyring)
        apt = PrivateApt(cache, mirror, keyring)
        apt.prepare()
        apt.update()
        packages = resolve_closure(apt, roots)
        apt.download(sorted(packages))
        debs = [_downloaded_deb(cache / "debs", name, fields)
                for name, fields in sorted(packages.items())]
        tmp = cache / "root.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        unpack(debs, tmp)
        stamp = {"layout": LAYOUT_VERSION, "roots": list(roots), "mirror": mirror,
                 "packages": {name: fields["version"] for name, fields in sorted(packages.items())},
                 "bytes": sum(deb.stat().st_size for deb in debs)}
        with open(tmp / STAMP, "w") as f:
            json.dump(stamp, f, indent=1)
        shutil.rmtree(cache / "root", ignore_errors=True)
        os.rename(tmp, cache / "root")
        return cache / "root"


def _downloaded_deb(debs, name, fields):
    """The file `apt-get download` left for (name, version): NAME_VERSION_ARCH.deb
    with the epoch's ':' quoted as %3a."""
    version = fields["version"].replace(":", "%3a")
    path = debs / ("%s_%s_%s.deb" % (name, version, fields.get("architecture", ARCH)))
    if not path.exists():
        raise Unavailable("apt-get download did not leave %s" % path.name)
    return path


def package_versions(root):
    """{package: version} of the unpacked root, from its stamp."""
    with open(Path(root) / STAMP) as f:
        return json.load(f)["packages"]
