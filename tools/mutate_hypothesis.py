"""pytest plugin for `make mutate`: cheaper tests per mutant.

A mutation run executes the tests that cover a function once per mutant
(thousands of times), so the property tests' example counts, tuned for
`make test`, would make it take many hours on two shared cores.  This
plugin scales every hypothesis test's max_examples by
MUTATE_HYPOTHESIS_SCALE (default 0.05, at least MUTATE_HYPOTHESIS_MIN = 5
examples) and turns the deadline off; the seed is fixed on the command line
(--hypothesis-seed), so a mutant's verdict does not depend on luck.  It
also leaves out SLOW_FOR_MUTATION, deterministic cases that test size
rather than a rule.  Loaded only by mutmut (pyproject.toml, [tool.mutmut]
pytest_add_cli_args).
"""

import os

from hypothesis import settings

SCALE = float(os.environ.get("MUTATE_HYPOTHESIS_SCALE", "0.05"))
MINIMUM = int(os.environ.get("MUTATE_HYPOTHESIS_MIN", "5"))
# 10000 sequential keys: the worst case for balance, not a separate rule.
SLOW_FOR_MUTATION = ("test_rbtree.py::test_sequential_10000_then_erase_every_other",)


def _fewer(current):
    return settings(current, deadline=None,
                    max_examples=max(MINIMUM, int(current.max_examples * SCALE)))


def pytest_collection_modifyitems(config, items):
    slow = [item for item in items if any(name in item.nodeid for name in SLOW_FOR_MUTATION)]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]
    done = set()
    for item in items:
        func = getattr(item, "obj", None)
        inner = getattr(func, "hypothesis", None)
        if inner is not None and id(func) not in done:
            done.add(id(func))
            func._hypothesis_internal_use_settings = _fewer(
                func._hypothesis_internal_use_settings)
        cls = getattr(item, "cls", None)
        # RuleBasedStateMachine.TestCase reads its class's `settings`.
        if cls is not None and isinstance(getattr(cls, "settings", None), settings) \
                and id(cls) not in done:
            done.add(id(cls))
            cls.settings = _fewer(cls.settings)
