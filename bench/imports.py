"""Print the import graph of identity/, profile_api/ and herken/ and what breaks the floors.

Exit status 1 when an import goes against the floors or modules import each other in a circle
beyond the allow-lists of tests/unit/test_floors.py, which holds the checker (`pytest` runs it).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_floors import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
