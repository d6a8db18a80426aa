# a53emu — top-level tasks.  `make demo` and `make test` do all the set-up
# (virtualenv, the package, the userland programs) on a fresh machine.

PYTHON_HOST ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup userland demo test test-fast bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON_HOST) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,userland]'
	touch $(STAMP)

userland: setup
	$(MAKE) -C userland all-libcs PYTHON=$(abspath $(PY))

# The seed article's malloc story: small mallocs move the break (sys_brk),
# a large one is an mmap, free() of it a munmap.  glibc tells the classic
# story; without the gcc cross compiler the musl build is shown.
DEMO_PROG = $(firstword $(wildcard userland/build/glibc/malloc_story) userland/build/musl/malloc_story)
demo: userland
	$(VENV)/bin/a53emu run --trace syscall,vma,fault --maps $(DEMO_PROG)

test: userland
	$(PY) -m pytest -q -n 2 tests

test-fast: userland
	$(PY) -m pytest -q -n 2 -m "not slow" tests

bench: userland
	$(PY) bench/run.py

clean:
	$(MAKE) -C userland clean
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
