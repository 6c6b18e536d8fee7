import os

# Keras 3 runs on the JAX backend in these tests; set before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "jax")


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run the long property fuzz of tests/test_fuzz.py (also OPTAX_LRS_FUZZ_LONG=1)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running tests, run with --slow")
