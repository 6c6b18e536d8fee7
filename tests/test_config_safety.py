"""from_config is safe for untrusted configs: no import without opt-in, JSON data only, bounded nesting."""

import json
import re
import sys
import uuid

import numpy as np
import pytest
import yaml

import optax_lrs as o
import optax_lrs.cli

T = np.arange(6)


def decay(t, lr):
    """An importable user function for from_fn (its config stores "test_config_safety:decay")."""
    return lr / (1.0 + t)


@pytest.fixture
def trap(tmp_path, monkeypatch):
    """A module on sys.path whose import writes a marker file: `(module name, marker path)`."""
    name = f"lrs_trap_{uuid.uuid4().hex}"
    marker = tmp_path / "imported"
    (tmp_path / f"{name}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n\ndef f(t, lr):\n    return lr / (1.0 + t)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, marker
    sys.modules.pop(name, None)


def fn_config(fn):
    return {"schedule": "from_fn", "params": {"fn": fn, "lr": 0.5}}


@pytest.mark.parametrize("nested", [False, True])
def test_safe_mode_refuses_a_function_without_importing_it(trap, nested):
    name, marker = trap
    cfg = fn_config(f"{name}:f")
    if nested:  # deep inside a composite too
        cfg = {"schedule": "warmup", "params": {"schedule": cfg, "warmup_steps": 3}}
    with pytest.raises(ValueError) as e:
        o.from_config(cfg)
    msg = str(e.value)
    assert msg.startswith(f"from_config: fn '{name}:f'")
    assert "allowed_functions" in msg and "safe_mode=False" in msg
    assert not marker.exists() and name not in sys.modules


def test_unsafe_mode_and_from_fn_itself_import_the_function(trap):
    name, marker = trap
    s = o.from_config(fn_config(f"{name}:f"), safe_mode=False)
    assert marker.exists()
    np.testing.assert_allclose(s(T), 0.5 / (1.0 + T), rtol=1e-7)
    # Python code naming its own function may import it: that is the caller's code
    np.testing.assert_allclose(o.from_fn(f"{name}:f", lr=2.0)(T), 2.0 / (1.0 + T), rtol=1e-7)


def test_cli_imports_a_config_function_only_with_allow_code(trap, tmp_path, capsys):
    name, marker = trap
    cfg = tmp_path / "fn.json"
    cfg.write_text(json.dumps(fn_config(f"{name}:f")))
    assert o.cli.main(["table", str(cfg), "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"optax-lrs: error: config file '{cfg}': from_fn: fn '{name}:f' is Python code")
    assert "--allow-code" in err and err.count("\n") == 1
    assert not marker.exists() and name not in sys.modules
    assert o.cli.main(["table", str(cfg), "--steps", "3", "--allow-code"]) == 0
    assert marker.exists()
    assert capsys.readouterr().out.splitlines()[1:] == ["0,0.5", "1,0.25", "2,0.16666667"]


def test_allowed_functions_by_name_and_by_alias():
    s = o.from_fn(decay, lr=0.5)
    cfg = json.loads(json.dumps(s.to_config()))
    assert cfg["params"]["fn"] == f"{__name__}:decay"
    assert o.from_config(cfg, allowed_functions=[decay]) == s
    assert o.from_config(fn_config("my_decay"), allowed_functions={"my_decay": decay}) == s
    # allowing one function does not allow another
    with pytest.raises(ValueError, match="from_config: fn 'os:getcwd'"):
        o.from_config(fn_config("os:getcwd"), allowed_functions=[decay])


@pytest.mark.parametrize("allowed", [[lambda t: t], "mod:f", {"f": 3}, 3])
def test_bad_allowed_functions(allowed):
    with pytest.raises(ValueError, match="from_config: allowed_functions must"):
        o.from_config(fn_config("mod:f"), allowed_functions=allowed)


@pytest.mark.parametrize("fn", [".relative:f", "no_colon", "os:<locals>.f", "a b:c"])
def test_from_fn_refuses_names_that_are_not_module_qualname(fn):
    with pytest.raises(ValueError, match=f"from_fn: fn must be a function or 'module:qualname', got '{fn}'"):
        o.from_fn(fn)


COS = {"schedule": "cosine_decay_schedule", "params": {"init_value": 0.1, "decay_steps": 10}}


def cos_with(**params):
    return {"schedule": "cosine_decay_schedule", "params": {**COS["params"], **params}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([COS], "from_config: config must be a dict with keys 'schedule' and 'params', got [{"),
        (
            {"schedule": "cosine_decay_schedule", "params": None},
            "params of cosine_decay_schedule must be a dict",
        ),
        (
            {"schedule": "cosine_decay_schedule", "params": [0.1, 10]},
            "must be a dict of parameters, got [0.1, 10]",
        ),
        ({"schedule": "nope", "params": {}}, "from_config: unknown schedule 'nope'; available: binary"),
        ({"schedule": ["x"], "params": {}}, "from_config: unknown schedule ['x']"),
        (
            cos_with(foo=1),
            "cosine_decay_schedule: unknown parameter 'foo'; parameters: init_value, decay_steps",
        ),
        (
            {"schedule": "cosine_decay_schedule", "params": {"init_value": 1}},
            "missing parameter 'decay_steps'",
        ),
        ({"schedule": "from_fn", "params": {"lr": 1}}, "from_fn: missing parameter 'fn'"),
        (cos_with(init_value={1, 2}), "must be JSON data (dict, list, str, number, bool, None), got {1, 2}"),
        (cos_with(init_value=np.float32(0.1)), "got np.float32(0.1) at params.init_value"),
        (cos_with(init_value=b"0.1"), "got b'0.1' at params.init_value"),
        (cos_with(alpha={1: 2}), "from_config: config keys must be strings, got 1 at params.alpha"),
    ],
)
def test_bad_configs_raise_one_clear_value_error(config, message):
    with pytest.raises(ValueError) as e:
        o.from_config(config)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "text",
    [
        "schedule: constant_schedule\nparams: {value: !!binary MC4x}",
        "schedule: constant_schedule\nparams: {value: 2001-01-01}",
        "schedule: constant_schedule\nparams: {value: !!set {1: null}}",
    ],
)
def test_objects_from_yaml_tags_are_refused(text):
    with pytest.raises(ValueError, match="from_config: config values must be JSON data.* at params.value"):
        o.from_config(yaml.safe_load(text))


def nested_list(levels):
    value = 0.1
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_is_bounded_at_64_levels():
    # the config dict and its params are 2 levels: 62 lists reach exactly 64, which is allowed
    try:
        o.from_config(cos_with(init_value=nested_list(62)))  # a batch with 62 axes of size 1
    except ValueError as e:  # or the constructor's own error (NumPy's limit on dimensions)
        assert "nested deeper" not in str(e)
    for levels in (63, 100_000):  # the second would be a RecursionError in a recursive walk
        with pytest.raises(ValueError, match=r"^from_config: config nested deeper than 64 levels$"):
            o.from_config(cos_with(init_value=nested_list(levels)))


def test_yaml_alias_bomb_is_cut_short():
    text = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n" for a, b in zip("abcdefg", "bcdefgh")
    )
    with pytest.raises(ValueError, match="from_config: config has more than 1000000 values"):
        o.from_config({"schedule": "constant_schedule", "params": yaml.safe_load(text)})


def test_a_deep_valid_composite_still_round_trips():
    s = o.constant_schedule(1.0)
    for _ in range(20):
        s = o.shift(s, 1)
    assert o.from_config(json.loads(json.dumps(s.to_config()))) == s


def test_batched_schedule_config_round_trips():
    """A grid stores each leaf as a list, one number per member; the lists come back as batched leaves
    (a list where a scalar belongs is refused only when it is not a batch)."""
    g = o.grid(o.cosine_decay_schedule, init_value=[0.0731, 0.31], decay_steps=[97, 37], alpha=0.013)
    again = o.from_config(json.loads(json.dumps(g.to_config())))
    assert again == g
    expected = [
        v * (0.987 * 0.5 * (1 + np.cos(np.pi * min(13, T) / T)) + 0.013)
        for v in (0.0731, 0.31)
        for T in (97, 37)
    ]
    np.testing.assert_allclose(again(13), expected, rtol=2e-6)


@pytest.mark.parametrize(
    ("text", "yaml_text", "repeated"),
    [
        ('{"a": 1, "b": {"c": 2, "c": 3}}', False, "key 'c' appears twice in one mapping"),
        ('[{"a": 1}, {"a": 2}]', False, None),  # the same key in two mappings is fine
        ("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n", True, "key 'c' appears twice in one mapping (line 5)"),
        ("a: 1\n'a': 2\n", True, "key 'a' appears twice in one mapping (line 2)"),  # quoting: same key
        ("a: 1\nb: {a: 2}\n", True, None),
        ("base: &b {x: 1}\nd:\n  <<: *b\n  x: 2\n", True, None),  # a merge key may be overridden
        ('{"a": 1, "a": ', False, None),  # not JSON: the loader says so, not this check
    ],
)
def test_repeated_keys_in_config_texts(text, yaml_text, repeated):
    from optax_lrs._config import repeated_key

    assert repeated_key(text, yaml_text) == repeated


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("twice.json", '{"schedule": "step_decay", "params": {"init_value": 0.0731, "decay_rate": 0.5, '
         '"decay_steps": 37, "decay_steps": 41}}', "key 'decay_steps' appears twice"),
        ("twice.yaml", "schedule: step_decay\nparams:\n  init_value: 0.0731\n  decay_rate: 0.5\n"
         "  decay_steps: 37\n  decay_steps: 41\n", "key 'decay_steps' appears twice in one mapping (line 6)"),
    ],
)  # fmt: skip
def test_reading_a_config_file_refuses_a_key_given_twice(tmp_path, name, text, message):
    """The loader itself (not only the command line) refuses it: json and yaml would keep 41."""
    from optax_lrs._spec import parse

    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=f"config file '{re.escape(str(path))}': {re.escape(message)}"):
        parse(str(path))
