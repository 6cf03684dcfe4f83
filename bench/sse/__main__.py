"""``python -m bench.sse``: see ``bench/sse/run.py``."""

import sys

from bench.sse.run import main

sys.exit(main())
