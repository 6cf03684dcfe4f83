"""bench.load: uploads under load, with live streams open (see __main__)."""

import sys
from pathlib import Path

# The page generator, the server runner and the SSE reader are the tests'
# own helpers, imported the way the tests import them.
_TESTS = str(Path(__file__).resolve().parents[2] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
