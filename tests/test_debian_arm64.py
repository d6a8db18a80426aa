"""tests/debian_arm64.py without the network: reading the machine's apt
sources (deb822 and one-line) and the Depends fields it follows."""

import pytest

import debian_arm64 as d


def write_etc(tmp_path, sources=None, one_line=None):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    if sources is not None:
        (etc / "sources.list.d" / "debian.sources").write_text(sources)
    if one_line is not None:
        (etc / "sources.list").write_text(one_line)
    return str(etc)


DEB822 = """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv("A53EMU_DEBIAN_MIRROR", raising=False)


def test_deb822_sources(tmp_path):
    etc = write_etc(tmp_path, sources=DEB822)
    assert d.debian_mirror(etc) == ("http://mirror.example/debian",
                                    "/usr/share/keyrings/debian-archive-keyring.gpg")
    assert [e["suites"] for e in d.machine_sources(etc)] == \
        ["bookworm bookworm-updates", "bookworm-security"]


def test_one_line_sources(tmp_path):
    etc = write_etc(tmp_path, one_line=(
        "# comment\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n"))
    assert d.debian_mirror(etc) == ("http://one.example/debian", "/k.gpg")


def test_another_debian_suite_names_the_mirror(tmp_path):
    """A trixie machine's Debian mirror also carries bookworm."""
    etc = write_etc(tmp_path, sources=DEB822.replace("bookworm", "trixie"))
    assert d.debian_mirror(etc)[0] == "http://mirror.example/debian"


def test_no_debian_mirror(tmp_path, monkeypatch):
    etc = write_etc(tmp_path, one_line="deb http://archive.ubuntu.com/ubuntu noble main\n")
    with pytest.raises(d.Unavailable, match="no Debian mirror"):
        d.debian_mirror(etc)
    monkeypatch.setenv("A53EMU_DEBIAN_MIRROR", "http://override.example/debian")
    assert d.debian_mirror(etc) == ("http://override.example/debian", d.DEBIAN_KEYRING)


def test_security_archive_is_not_a_mirror(tmp_path):
    """With the main entry disabled only the security archive is left, which
    has no bookworm suite."""
    etc = write_etc(tmp_path, sources="Enabled: no\n" + DEB822)
    assert [e["uris"] for e in d.machine_sources(etc)] == ["http://mirror.example/debian-security"]
    with pytest.raises(d.Unavailable):
        d.debian_mirror(etc)


def test_dependency_names():
    fields = {"pre-depends": "libacl1 (>= 2.2.23), libc6 (>= 2.34)",
              "depends": "libgcc-s1, debconf (>= 0.5) | debconf-2.0, python3:any"}
    assert d.dependency_names(fields) == ["libacl1", "libc6", "libgcc-s1", "debconf", "python3"]
    assert d.dependency_names({}) == []
