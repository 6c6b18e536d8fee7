"""The command line: list, demo --quick (vmapped run = each schedule alone), bad input."""

import csv
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

import optax_lrs as o
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
