"""Import Unicorn's Python binding without the two modules its loader
imports only to find libunicorn (issue 8: start-up).

The binding's loader (unicorn/unicorn_py3/unicorn.py, __load_uc_lib)
imports importlib.resources (tempfile, zipfile, shutil, random, bz2 and
lzma come with it) and inspect (ast, dis, tokenize) to work out two
directories where libunicorn may be: the package's lib/
(`importlib.resources.files('unicorn') / 'lib'`) and the directory of its
own source (`inspect.getfile`).  That is ~30 ms of CPU of every start on
the development machine, a fifth of `a53emu run hello`.

For that one import, two stand-ins answer those two questions as the real
modules do (the package's directory; a function's source file); then they
are removed, and a later `import inspect` gets the real module.  The
loader joins its candidate directories with pathlib (which imports
fnmatch, urllib.parse and ipaddress: ~5 ms more); unless pathlib is
already loaded, a third stand-in spells those joins as pathlib does.  If the
binding asks them anything else (another version), the half-done import
is undone and the caller's own `import unicorn` does it the ordinary way.
Nothing is saved, and nothing is done, when the real modules are already
loaded (under pytest, for instance).
"""

import importlib
import importlib.util
import os
import sys
import types

_STAND_INS = ("inspect", "importlib.resources")


class _PurePosixPath:
    """What the loader asks of pathlib's Path and PurePath: a path made of
    parts (an absolute part starts over), joined with `/`, its `.parent`
    and its text, spelled as pathlib spells it (empty and `.` components
    dropped, `..` kept, `.` for nothing)."""

    __slots__ = ("_text",)

    def __init__(self, *parts):
        text = os.path.join(*[os.fspath(part) for part in parts]) if parts else ""
        root = "//" if text.startswith("//") and not text.startswith("///") else \
            "/" if text.startswith("/") else ""
        names = [name for name in text.split("/") if name not in ("", ".")]
        self._text = root + "/".join(names) or "."

    def __truediv__(self, other):
        return type(self)(self._text, other)

    def __fspath__(self):
        return self._text

    __str__ = __fspath__

    @property
    def parent(self):
        if self._text in (".", "/", "//"):
            return self
        head, sep, _tail = self._text.rpartition("/")
        if not sep:
            return type(self)(".")
        return type(self)(head if head.strip("/") else head + sep)     # "/a", "//a": the root


def _stand_ins(package_dir):
    """{module name: stand-in} for the binding's loader."""
    if "pathlib" in sys.modules:
        Path = sys.modules["pathlib"].Path     # loaded already: nothing to save
    else:
        Path = _PurePosixPath

    def getfile(obj):
        return obj.__code__.co_filename         # inspect.getfile() of a function

    def files(package):
        if package != "unicorn":
            raise ImportError("fast_import: files(%r) is not the binding's question" % package)
        return Path(package_dir)                # files() of a package: its directory

    inspect = types.ModuleType("inspect")
    inspect.getfile = getfile
    resources = types.ModuleType("importlib.resources")
    resources.files = files
    stand_ins = {"inspect": inspect, "importlib.resources": resources}
    if Path is _PurePosixPath:
        pathlib = types.ModuleType("pathlib")
        pathlib.Path = pathlib.PurePath = Path
        stand_ins["pathlib"] = pathlib
    return stand_ins


def import_unicorn():
    """Import the `unicorn` package with the stand-ins in place, if that
    saves anything; on any failure leave no trace (see the module's doc)."""
    if "unicorn" in sys.modules or any(name in sys.modules for name in _STAND_INS):
        return
    spec = importlib.util.find_spec("unicorn")
    if spec is None or not spec.submodule_search_locations:
        return
    stand_ins = _stand_ins(list(spec.submodule_search_locations)[0])
    sys.modules.update(stand_ins)
    try:
        importlib.import_module("unicorn")
    except Exception:       # noqa: BLE001 -- undone; the ordinary import follows
        for name in [m for m in sys.modules if m == "unicorn" or m.startswith("unicorn.")]:
            del sys.modules[name]
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
