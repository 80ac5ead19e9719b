"""Test configuration: every test runs against the backend chosen by --backend (default numpy)."""
import os
import sys

import pytest


def pytest_addoption(parser):
    parser.addoption("--backend", default=os.environ.get("TAPEGRAD_TEST_BACKEND", "numpy"),
                     help="backend to run the suite on: a device type registered in `backends` "
                          "(cpu, cuda, array_api_strict, ...) or a library name (numpy, cupy)")


#: library names people type for the built-in device types; every other name is asked of `backends`
_ALIASES = {"numpy": "cpu", "cupy": "cuda"}


def _devices():
    import backends
    return backends.available()


def pytest_configure(config):
    name = config.getoption("--backend")
    dev = _ALIASES.get(name, name)
    if dev not in _devices():
        raise pytest.UsageError(f"--backend must be one of {sorted(set(_devices()) | set(_ALIASES))}, got {name!r}")
    config._tapegrad_device = dev


def pytest_terminal_summary(terminalreporter, config):
    # the registry's own run (pytest may import the module as "test_conformance" or "tests.test_conformance")
    for name in ("test_conformance", "tests.test_conformance"):
        conformance = sys.modules.get(name)
        st = getattr(conformance, "STATS", None)
        if st and st["tests"]:
            terminalreporter.write_line(f"conformance registry: {st['compared']} op x sample x check combinations "
                                        f"compared against torch, {st['known']} of them known divergences (opinfo.KNOWN)")
            break
    # printed even under -q, so a skipped backend run says why in its last lines
    dev = config._tapegrad_device
    if dev != "cpu":
        ok, why = _probe(dev)
        name = config.getoption("--backend")
        terminalreporter.write_line(f"tapegrad backend {name!r}: " + (f"ran on device '{dev}'" if ok else
                                    f"UNAVAILABLE, every test was skipped: {why}"))


def _probe(dev):
    import backends
    try:
        be = backends.get(dev)
        return be.is_available(), be.unavailable_reason()
    except Exception as e:  # noqa: BLE001
        return False, f"{type(e).__name__}: {e}"


def pytest_collection_modifyitems(config, items):
    dev = config._tapegrad_device
    if dev == "cpu":
        return
    ok, why = _probe(dev)
    if not ok:
        skip = pytest.mark.skip(reason=f"backend {config.getoption('--backend')!r} unavailable here: {why}")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _default_device(request):
    import autograd as ag
    dev = request.config._tapegrad_device
    prev = ag.get_default_device()
    ag.set_default_device(dev) if dev == "cpu" or _available(dev) else None
    ag.manual_seed(0)
    yield
    ag.set_default_device(prev)


def _available(dev):
    import backends
    try:
        return backends.get(dev).is_available()
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def device(request):
    return request.config._tapegrad_device


try:
    import torch  # noqa: F401
    HAS_TORCH = True
except Exception:  # noqa: BLE001
    HAS_TORCH = False


@pytest.fixture
def source_lines():
    """Record the user's file:line on every node for the test (off by default for speed)."""
    import autograd as ag
    with ag.record_source():
        yield
