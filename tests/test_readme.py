"""The README stays true: its quickstart runs, and its first two commands are the demo and the tests."""

import pathlib
import re

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


def test_starts_with_the_demo_and_the_test_command():
    first_block = re.findall(r"```bash\n(.*?)```", README, re.S)[0].splitlines()
    assert first_block[0].endswith("optax-lrs demo")
    assert first_block[1] == "python -m pytest"
