"""pytest plugin (loaded with -p by tests/CMakeLists.txt): a run with no failure in which a test
or a whole module was skipped exits 77, the SKIP_RETURN_CODE CTest gives every test, so the
CTest entry shows Skipped, never Passed (tests/README.md, "Skips"; C++ twin: tests/common/skip.h)."""

SKIP_RETURN_CODE = 77
_skipped = []


def pytest_collectreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # 5 is pytest's "no tests collected", which a module skipped as a whole gives
    if exitstatus in (0, 5) and _skipped:
        session.exitstatus = SKIP_RETURN_CODE
