# a53emu — top-level tasks.  `make demo` and `make test` do all the set-up
# (virtualenv, the package, the userland programs) on a fresh machine.

PYTHON_HOST ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup userland bytecode demo test test-fast bench mutate fuzz ltp clean

setup: $(STAMP)

# editable_mode=compat: the install is one path in a .pth file.  setuptools'
# default editable finder is a module every interpreter start imports, with
# pathlib, urllib.parse and ipaddress behind it (~15-20 ms of `a53emu run`).
$(STAMP): pyproject.toml
	$(PYTHON_HOST) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,userland]' --config-settings editable_mode=compat
	touch $(STAMP)

# The project's bytecode, written even under PYTHONDONTWRITEBYTECODE (a
# common setting, under which every run would compile the ~110 modules
# again: ~1 s of CPU on the development machine instead of ~0.15 s).
# compileall only rewrites what changed.  The tests need it as much: they
# start `python -m emu` hundreds of times.
bytecode: setup
	$(PY) -m compileall -q emu kernel a53emu

userland: setup
	$(MAKE) -C userland all-libcs PYTHON=$(abspath $(PY))

# The seed article's story.  1: malloc — small mallocs move the break
# (sys_brk), a large one is an mmap, free() of it a munmap (glibc tells the
# classic story; without the gcc cross compiler the musl build is shown).
# 2: the four kinds of mapping, with the VMA events and the faults that
# fill them.
DEMO_LIBC = $(if $(wildcard userland/build/glibc/malloc_story),glibc,musl)
# tools/story.py filters each run's events to the story and counts the rest;
# the report of the first run (kernel/report/) is written to DEMO_REPORT.
DEMO_REPORT = build/demo/malloc_story.html
demo: userland bytecode
	@mkdir -p $(dir $(DEMO_REPORT))
	@$(PY) tools/story.py --report $(DEMO_REPORT) \
	    --title "=== 1. malloc: brk for small blocks, mmap for a large one ===" \
	    userland/build/$(DEMO_LIBC)/malloc_story
	@$(PY) tools/story.py --title "=== 2. the four kinds of mapping ===" \
	    userland/build/$(DEMO_LIBC)/mmap_kinds

test: userland bytecode
	$(PY) -m pytest -q -n 2 tests

test-fast: userland bytecode
	$(PY) -m pytest -q -n 2 -m "not slow" tests

bench: userland bytecode
	$(PY) bench/run.py

# Mutation testing of the mm code (README, "Mutation testing"): mutmut 3,
# the fast in-process tests, MUTATE_JOBS workers.  Not part of `test`: it
# takes about an hour on 2 cores.  Starts afresh each time (mutmut's cache
# does not notice changed tests), then prints the score per file.
MUTATE_JOBS ?= 2
mutate: setup
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children $(MUTATE_JOBS)
	$(PY) tools/mutate_score.py

# LTP's memory-management system-call tests on a53emu and qemu-aarch64
# (tools/ltp.py; docs/ltp.md is its last table).  LTP is not vendored:
# LTP=path/to/an/ltp/checkout (built with LTP_ARGS=--build the first time).
ltp: userland
	@test -n "$(LTP)" || { echo "make ltp LTP=path/to/ltp [LTP_ARGS=--build]"; exit 2; }
	$(PY) tools/ltp.py --ltp $(LTP) $(LTP_ARGS)

# The fuzz suite's long budget (README, "Fuzzing"; issue 10 part 7): 20,000
# random system calls, 400 ELF mutants and the resource cases, one summary
# line and a reproduction per failure.  FUZZ_ARGS=... to change the budget
# (e.g. --seed 2 --calls 50000).  tests/test_fuzz.py runs a short budget.
FUZZ_ARGS ?=
fuzz: userland
	$(PY) tools/fuzz.py $(FUZZ_ARGS)

clean:
	$(MAKE) -C userland clean
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis mutants
