"""Print one line for all of `make test`: the totals of the JUnit reports of its stages.
A stage that wrote no report (it could not start, or was killed) counts as a failure."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = dict(tests=0, failures=0, errors=0, skipped=0)
for path in map(Path, sys.argv[1:]):
    if not path.is_file():
        print(f"no report from the {path.stem} stage ({path})")
        totals["tests"] += 1
        totals["errors"] += 1
        continue
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"total: {passed} passed, {failed} failed, {totals['skipped']} skipped")
sys.exit(1 if failed or not passed else 0)
