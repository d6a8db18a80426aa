"""pytest plugin for `make mutate`: fewer hypothesis examples per mutant.

A mutation run executes the tests that cover a function once per mutant
(thousands of times), so the property tests' example counts, tuned for
`make test`, would make it take hours on two cores.  This plugin scales
every hypothesis test's max_examples by MUTATE_HYPOTHESIS_SCALE (default
0.1, at least MUTATE_HYPOTHESIS_MIN = 10 examples) and turns the deadline
off; the seed is fixed on the command line (--hypothesis-seed), so a
mutant's verdict does not depend on luck.  Loaded only by mutmut
(pyproject.toml, [tool.mutmut] pytest_add_cli_args).
"""

import os

from hypothesis import settings

SCALE = float(os.environ.get("MUTATE_HYPOTHESIS_SCALE", "0.1"))
MINIMUM = int(os.environ.get("MUTATE_HYPOTHESIS_MIN", "10"))


def _fewer(current):
    return settings(current, deadline=None,
                    max_examples=max(MINIMUM, int(current.max_examples * SCALE)))


def pytest_collection_modifyitems(items):
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
