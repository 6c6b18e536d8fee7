"""The README stays true: its quickstart runs, and its first two commands are the demo and the tests."""

import pathlib
import re

import numpy as np
import pytest

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()


def test_quickstart_runs():
    code = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    exec(compile(code, "README.md", "exec"), {})


def test_transforms_example_runs():
    section = README.split("## Transforms", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    # the plateau reduced once (3 bad epochs after the best, 0.9), and current_lr is schedule x scale
    lr = scope["lrs"].cosine_decay_schedule(3e-3, 500)(5)
    assert float(scope["lrs"].hyperparams(scope["state"])["plateau_scale"]) == pytest.approx(0.37)
    assert float(scope["lrs"].current_lr(scope["state"])) == pytest.approx(0.37 * float(lr), rel=1e-6)


def test_restarts_and_averaging_example_runs():
    section = README.split("### Restarts and weight averaging", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    # the cycle ends by hand: 37 steps, then 37·1.7 = 62.9 (starts 37, 99.9 -> 100), then 106.93
    np.testing.assert_array_equal(
        scope["sched"].cycle_index(np.array([0, 36, 37, 99, 100, 206, 207])), [0, 0, 1, 1, 2, 2, 3]
    )
    # replay the same scan, recording the weights after the updates with counts 36, 99 and 206
    opt, step = scope["opt"], scope["step"]
    import jax.numpy as jnp

    w, state = jnp.zeros(5), opt.init(jnp.zeros(5))
    seen = {}
    for t in range(207):
        (w, state), _ = step((w, state), None)
        if t in (36, 99, 206):
            seen[t] = np.asarray(w)
    assert int(scope["valid"]) == 2
    np.testing.assert_allclose(np.asarray(scope["kept"]), [seen[99], seen[206]], rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(scope["swa_w"]), np.mean([seen[36], seen[99], seen[206]], 0), rtol=1e-5
    )


def test_starts_with_the_demo_and_the_test_command():
    first_block = re.findall(r"```bash\n(.*?)```", README, re.S)[0].splitlines()
    assert first_block[0].endswith("optax-lrs demo")
    assert first_block[1].endswith("python -m pytest")


def test_slow_tests_are_left_out_by_default_and_run_by_the_readme_slow_command():
    """The README's second test command (CI runs it) collects exactly the tests marked slow, which the
    default command leaves out."""
    import subprocess
    import sys

    assert "\npython -m pytest --slow -m slow\n" in README
    root = pathlib.Path(__file__).parent.parent

    # the three collections in one process (one start-up of jax, torch and keras, not three)
    runs = [[], ["--slow", "-m", "slow"], ["--slow"]]
    script = (
        "import pytest\n"
        f"for args in {runs!r}:\n"
        "    print('=== run', flush=True)\n"
        "    code = pytest.main(['--co', '-q', '-p', 'no:xdist', '-p', 'no:cacheprovider', '-o', 'addopts=',"
        " *args, 'tests/test_exactness.py'])\n"
        "    assert code == 0, (args, code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    default, slow, everything = (
        {line for line in part.splitlines() if "::" in line} for part in out.split("=== run\n")[1:]
    )
    name = "tests/test_exactness.py::test_shuffled_eager_and_jit_calls_return_each_schedules_own_values"
    assert slow == {name}
    assert name not in default and default | slow == everything and len(default) > 20
