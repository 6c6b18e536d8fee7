"""`optax-lrs find`: the range test on the demo's MLP and digits, its plot and its suggestions; bad input
exits 2 with one line before any work and writes nothing."""

import os
import re
import subprocess
import sys

import jax.numpy as jnp
import matplotlib
import matplotlib.figure
import matplotlib.image
import numpy as np
import optax
import pytest

import optax_lrs as o
import optax_lrs.cli
from optax_lrs import demo

PNG = b"\x89PNG\r\n\x1a\n"


def run_main(args, capsys):
    try:
        rc = o.cli.main(args)
    except SystemExit as e:  # argparse's own errors exit from the parser
        rc = e.code
    return rc, capsys.readouterr()


def number(line_start, out):
    (match,) = re.findall(rf"^{re.escape(line_start)}\s*(\S+)$", out, re.M)
    return float(match)


def test_find_writes_the_plot_and_prints_the_suggestion(tmp_path, capsys):
    out = tmp_path / "sub" / "lr.png"
    rc, captured = run_main(["find", "--steps", "40", "--min-lr", "1e-4", "-o", str(out)], capsys)
    assert rc == 0, captured.err
    assert out.read_bytes()[:8] == PNG and os.listdir(out.parent) == ["lr.png"]
    image = matplotlib.image.imread(out)
    assert image.shape[0] > 100 and image[..., :3].std() > 0.05  # not a blank canvas
    suggested = number("suggested learning rate:", captured.out)
    # the same test through the API, on the demo's pieces: the same numbers
    (x, y), _ = demo.load_data()
    x, y = jnp.asarray(x), jnp.asarray(y)
    r = o.lr_find(
        lambda p, b: demo.loss_fn(p, *b),
        demo.init_params(),
        lambda k: demo.minibatch(x, y, k, 64),
        lambda learning_rate: optax.sgd(learning_rate, momentum=0.5),
        min_lr=1e-4,
        num_steps=40,
    )
    assert 1e-4 <= suggested <= 10.0
    np.testing.assert_allclose(suggested, r.suggestion, rtol=1e-3)  # printed with 4 digits
    assert f"wrote {out}" in captured.out
    assert "100%" in captured.err  # the progress bar reached its end


def test_find_parallel(tmp_path, capsys):
    out = tmp_path / "p.svg"
    rc, captured = run_main(
        ["find", "--parallel", "4", "--steps", "20", "--min-lr", "1e-3", "-o", str(out)], capsys
    )
    assert rc == 0, captured.err
    assert out.read_text().lstrip().startswith("<?xml")
    assert "4 learning rates x 20 steps under one vmap" in captured.err
    assert 1e-3 <= number("suggested learning rate:", captured.out) <= 10.0


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "some_file.txt").write_text("x")
    (tmp_path / "folder.png").mkdir()
    return tmp_path


BAD = [
    (["--steps", "1"], "find: --steps must be an integer from 2 to 100000, got '1'"),
    (["--steps", "x"], "find: --steps must be an integer from 2 to 100000, got 'x'"),
    (["--steps", "-5"], "find: --steps must be an integer from 2 to 100000, got '-5'"),
    (["--steps", "²"], "find: --steps must be an integer from 2 to 100000, got '²'"),
    (["--steps", "9" * 5000], "find: --steps must be an integer from 2 to 100000"),
    (["--steps", "100001"], "find: --steps must be an integer from 2 to 100000, got '100001'"),
    (["--parallel", "1"], "find: --parallel must be an integer from 2 to 1024, got '1'"),
    (["--parallel", "2.5"], "find: --parallel must be an integer from 2 to 1024, got '2.5'"),
    (["--min-lr", "0"], "find: --min-lr must be a finite number > 0, got '0'"),
    (["--min-lr", "nan"], "find: --min-lr must be a finite number > 0, got 'nan'"),
    (["--min-lr", "abc"], "find: --min-lr must be a finite number > 0, got 'abc'"),
    (["--max-lr", "inf"], "find: --max-lr must be a finite number > 0, got 'inf'"),
    (["--min-lr", "1", "--max-lr", "0.5"], "find: --max-lr must be > --min-lr = 1, got '0.5'"),
    (["-o", "plot.txt"], "find: -o must end in .png, .pdf or .svg, got 'plot.txt'"),
    (["-o", "some_file.txt/x.png"], "find: -o 'some_file.txt/x.png': 'some_file.txt' is not a directory"),
    (["-o", "folder.png"], "find: -o 'folder.png' is a directory"),
    (["-o", "x.png/"], "find: -o 'x.png/' names a directory, not a file"),
    (["-o", "/proc/x.png"], "find: -o '/proc/x.png' cannot be written"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(args, message, workdir, capsys, monkeypatch):
    def never(*a, **k):
        raise AssertionError("the range test started before the bad input was refused")

    monkeypatch.setattr(demo, "load_data", never)
    before = sorted(p.name for p in workdir.rglob("*"))
    rc, captured = run_main(["find", *args], capsys)
    assert rc == 2
    err = captured.err
    assert err.count("\n") == 1 and err.startswith("optax-lrs: error:") and message in err, err
    assert captured.out == ""
    assert sorted(p.name for p in workdir.rglob("*")) == before


def test_a_failed_write_leaves_the_old_plot_and_no_temp_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "lr.png"
    out.write_bytes(b"old")

    def broken_savefig(self, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    rc, captured = run_main(["find", "--steps", "12", "-o", str(out)], capsys)
    assert rc == 2 and captured.err.splitlines()[-1] == "optax-lrs: error: [Errno 28] No space left on device"
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["lr.png"]


def test_bad_value_in_a_subprocess_has_no_traceback():
    r = subprocess.run(
        [sys.executable, "-m", "optax_lrs", "find", "--steps", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 2
    assert r.stderr == "optax-lrs: error: find: --steps must be an integer from 2 to 100000, got '1'\n"
