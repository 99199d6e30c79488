"""``python -m seqlm …`` is ``seqlm …``."""

import sys

from seqlm.run import main

sys.exit(main())
