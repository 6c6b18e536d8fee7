"""The command line: list, show, plot, table, demo --quick (vmapped run = each schedule alone), bad input."""

import csv
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.image
import numpy as np
import pytest

import optax_lrs as o
import optax_lrs.cli
from optax_lrs import demo


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "optax_lrs", *args], capture_output=True, text=True, timeout=600
    )


def test_list_shows_every_schedule_with_signature():
    r = cli("list")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == len(o.available())
    assert "cosine_decay_schedule(init_value: 'jax.typing.ArrayLike', decay_steps" in r.stdout


def test_bad_subcommand_exits_2_with_one_line():
    r = cli("frobnicate")
    assert r.returncode == 2
    assert r.stderr.startswith("optax-lrs: error:") and "Traceback" not in r.stderr


def test_demo_quick_writes_outputs(tmp_path):
    r = cli("demo", "--quick", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["schedule"] for row in rows] == list(demo.schedules(300))
    assert all(0.5 < float(row["test_accuracy"]) <= 1.0 for row in rows)
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_vmapped_training_equals_each_schedule_alone():
    steps = 40
    scheds = list(demo.schedules(steps).values())
    data = demo.load_data()
    initial_state, run, _ = demo.make_trainer(scheds, data, batch_size=32)
    idx = jnp.arange(len(scheds))
    _, batched = jax.vmap(run, in_axes=(0, 0, None))(idx, jax.vmap(initial_state)(idx), steps)
    for i in range(len(scheds)):
        _, alone = run(i, initial_state(i), steps)
        np.testing.assert_allclose(batched[i], alone, rtol=2e-5, atol=1e-6)
    assert not np.allclose(batched[0], batched[4])


COS = "cosine_decay_schedule:init_value=0.1,decay_steps=100"
STEP = "multistep_decay:init_value=1,boundaries=[30, 60],decay_rate=0.1"


def test_table_values_from_the_formulas(capsys):
    assert o.cli.main(["table", COS, STEP, "--steps", "0,25,50,100,200"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["step", COS, STEP]
    t = np.array([0, 25, 50, 100, 200])
    got = np.array([[float(x) for x in r] for r in rows[1:]])
    np.testing.assert_array_equal(got[:, 0], t)
    np.testing.assert_allclose(got[:, 1], 0.05 * (1 + np.cos(np.pi * np.minimum(t, 100) / 100)), atol=1e-8)
    np.testing.assert_allclose(got[:, 2], [1, 1, 0.1, 0.01, 0.01], rtol=1e-6)


def test_table_with_n_steps_and_a_config_file(tmp_path, capsys):
    cfg = tmp_path / "sched.json"
    cfg.write_text(json.dumps(o.step_decay(1.0, 0.5, 2).to_config()))
    assert o.cli.main(["table", str(cfg), "--steps", "5"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["step", str(cfg)]
    assert [float(r[1]) for r in rows[1:]] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_plot_writes_a_real_png(tmp_path):
    out = tmp_path / "sub" / "p.png"
    assert o.cli.main(["plot", COS, STEP, "--steps", "300", "-o", str(out), "--log"]) == 0
    image = matplotlib.image.imread(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_show_prints_signature_docstring_and_formula(capsys):
    assert o.cli.main(["show", "cosine_decay_schedule"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cosine_decay_schedule(init_value")
    assert "value(t) = init_value" in out and "Args:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "unknown schedule 'nope'"),
        (["table", "nope:x=1", "--steps", "3"], "unknown schedule 'nope'"),
        (
            ["table", "cosine_decay_schedule:init_value=0.1", "--steps", "3"],
            "missing parameter 'decay_steps'",
        ),
        (["table", COS + ",foo=2", "--steps", "3"], "unknown parameter 'foo'"),
        (
            ["table", "cosine_decay_schedule:init_value=0.1,decay_steps=-1", "--steps", "3"],
            "decay_steps must be > 0, got -1",
        ),
        (["table", "constant_schedule:value=abc", "--steps", "3"], "value must be a number, got 'abc'"),
        (["table", COS, "--steps", "x"], "--steps must be"),
        (["table", COS, "--steps", "0"], "--steps must be a positive number"),
        (["table", "missing.json", "--steps", "3"], "does not exist"),
        (["plot", COS, "--steps", "3", "-o", "p.txt"], "-o must end in .png"),
        (["plot", COS, "-o", "p.png"], "--steps"),
        (["table", COS], "--steps"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args, message, capsys):
    try:
        rc = o.cli.main(args)
    except SystemExit as e:  # argparse's own errors (a missing option) exit from the parser
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("optax-lrs: error:") and message in err


def test_bad_value_in_a_subprocess_has_no_traceback():
    r = cli("table", "cosine_decay_schedule:init_value=0.1,decay_steps=-1", "--steps", "3")
    assert r.returncode == 2
    assert r.stderr.strip() == "optax-lrs: error: cosine_decay_schedule: decay_steps must be > 0, got -1"
