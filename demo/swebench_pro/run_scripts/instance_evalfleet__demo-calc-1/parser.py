#!/usr/bin/env python3
"""SWE-bench Pro's parser contract: parser.py STDOUT STDERR OUTPUT_JSON (this one reads unittest -v)."""

import dataclasses
import json
import re
import sys
from enum import Enum
from pathlib import Path


class TestStatus(Enum):
    PASSED = 1
    FAILED = 2
    SKIPPED = 3
    ERROR = 4


@dataclasses.dataclass
class TestResult:
    name: str
    status: TestStatus


LINE = re.compile(r"^(test\w+) \(([\w.]+)\)\S* \.\.\. (ok|FAIL|ERROR|skipped.*)$")
WORDS = {"ok": TestStatus.PASSED, "FAIL": TestStatus.FAILED, "ERROR": TestStatus.ERROR}


def parse_test_output(stdout_content: str, stderr_content: str) -> list[TestResult]:
    results = []
    for line in (stdout_content + "\n" + stderr_content).splitlines():
        match = LINE.match(line.strip())
        if match:
            status = WORDS.get(match.group(3), TestStatus.SKIPPED)
            where, method = match.group(2), match.group(1)  # Python 3.11 prints module.Class.method
            name = where if where.endswith("." + method) else f"{where}.{method}"
            results.append(TestResult(name, status))
    return results


def main(stdout_path: str, stderr_path: str, output_path: str) -> None:
    results = parse_test_output(Path(stdout_path).read_text(), Path(stderr_path).read_text())
    tests = [{"name": r.name, "status": r.status.name} for r in results]
    Path(output_path).write_text(json.dumps({"tests": tests}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
