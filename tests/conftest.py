"""What every test run prints at its end: the wall time of each test file (setup, call and
teardown of its tests together, module fixtures included), slowest first. CI has a
45-minute budget; this says where it goes without anyone timing tests by hand."""

from __future__ import annotations

import collections

_FILE_SECONDS: collections.Counter = collections.Counter()


def pytest_runtest_logreport(report):
    _FILE_SECONDS[report.nodeid.split("::", 1)[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _FILE_SECONDS:
        return
    total = sum(_FILE_SECONDS.values())
    terminalreporter.section(f"time per test file ({total / 60:.1f} min in all)")
    for path, seconds in _FILE_SECONDS.most_common():
        if seconds >= 1:
            terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
