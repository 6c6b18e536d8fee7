import os
import shutil
import tempfile

# Keras 3 runs on the JAX backend in these tests; set before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "jax")

# One compilation cache for this run, shared by the xdist workers and the processes the tests start
# (notebook kernels, the CLI): a program that two of them compile (the same schedule structure in two
# test files) is compiled once. It starts empty in every run, so every program is still compiled
# here; only a second compile of the identical program is read back. Set before jax is imported (the
# first process to load this file makes it; the workers and subprocesses inherit it).
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="optax_lrs_tests_xla_")
    os.environ["OPTAX_LRS_TESTS_CACHE_OWNER"] = str(os.getpid())
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (the long stress and corner-case modes; CI runs them)",
    )
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help="run the long property fuzz of tests/test_fuzz.py (also OPTAX_LRS_FUZZ_LONG=1)",
    )


def pytest_unconfigure(config):
    if os.environ.get("OPTAX_LRS_TESTS_CACHE_OWNER") == str(os.getpid()):
        shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a long stress or corner-case mode, left out unless --slow is given (CI gives it)"
    )


LONG_FILES = {"test_notebooks.py", "test_bench.py"}


def _case_key(item):
    """Generic-suite items sorted by their case: the tests of one schedule run one after another, so
    under xdist they land in one worker and reuse its compiled programs."""
    spec = getattr(item, "callspec", None)
    return spec.id if spec is not None else ""


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--slow"):
        slow = [item for item in items if item.get_closest_marker("slow")]
        if slow:
            keep = [item for item in items if not item.get_closest_marker("slow")]
            config.hook.pytest_deselected(items=slow)
            items[:] = keep
    # the generic suite, grouped by case (a stable sort keeps each case's checks in file order)
    positions = [i for i, item in enumerate(items) if item.path.name == "test_catalogue.py"]
    grouped = sorted((items[i] for i in positions), key=_case_key)
    for i, item in zip(positions, grouped):
        items[i] = item
    # the longest single tests (notebooks, 10-25 s each; the bench records) first: started last, one
    # of them would keep a worker busy after the other has run out of tests
    items.sort(key=lambda item: item.path.name not in LONG_FILES)
