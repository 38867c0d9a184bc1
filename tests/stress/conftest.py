"""Shows the figures of the stress tests in pytest's terminal summary (with or without ``-s``)."""

from __future__ import annotations

import pytest

from tests.stress._figures import RECORDED, report_path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RECORDED:
        return
    terminalreporter.section("memlane reliability figures")
    for name, summary in RECORDED.items():
        terminalreporter.write_line(f"{name}: {summary}")
    terminalreporter.write_line(f"(saved to {report_path()})")
