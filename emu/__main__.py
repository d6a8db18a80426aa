"""`python -m emu run PROGRAM`: the same as the a53emu console script."""
import sys

from emu.cli import main

sys.exit(main())
