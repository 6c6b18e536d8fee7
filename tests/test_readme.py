"""The README stays true: its quickstart runs, and its first two commands are the demo and the tests."""

import pathlib
import re

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()


def test_quickstart_runs():
    code = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    exec(compile(code, "README.md", "exec"), {})


def test_starts_with_the_demo_and_the_test_command():
    first_block = re.findall(r"```bash\n(.*?)```", README, re.S)[0].splitlines()
    assert first_block[0].endswith("optax-lrs demo")
    assert first_block[1] == "python -m pytest"
