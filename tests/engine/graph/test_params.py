"""Typed parameters and training settings: normal forms, refusals with clear messages, formatting."""

import math

import pytest

from engine.graph import SETTINGS_GROUPS, SETTINGS_SPECS, ParamSpec, default_settings, get_layer_type, layer_types
from engine.graph.params import validate_params
from engine.graph.settings import validate_settings


@pytest.mark.parametrize("spec, value, expected", [
    (ParamSpec("n", "int", 1, minimum=0), 3, 3),
    (ParamSpec("n", "int", 1, minimum=0), 3.0, 3),  # JSON may write an integer as 3.0
    (ParamSpec("f", "float", 0.5), 1, 1.0),
    (ParamSpec("b", "bool", False), True, True),
    (ParamSpec("c", "choice", "a", choices=("a", "b")), "b", "b"),
    (ParamSpec("k", "pair", (3, 3), minimum=1), 5, (5, 5)),
    (ParamSpec("k", "pair", (3, 3), minimum=1), [2, 4], (2, 4)),
    (ParamSpec("p", "padding", (0, 0), minimum=0), "same", "same"),
    (ParamSpec("p", "padding", (0, 0), minimum=0), "valid", "valid"),
    (ParamSpec("p", "padding", (0, 0), minimum=0), [1, 2], (1, 2)),
    (ParamSpec("s", "shape", (3, 32, 32), minimum=1), [1, 28, 28], (1, 28, 28)),
    (ParamSpec("m", "ints", ()), [3, 6], (3, 6)),
    (ParamSpec("t", "text", ""), "dir", "dir"),
    (ParamSpec("auto", "int", None, minimum=1), None, None),  # default None: optional ("auto")
])
def test_validate_gives_the_normal_form(spec, value, expected):
    result = spec.validate(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("spec, value, message", [
    (ParamSpec("kernel_size", "pair", (3, 3), minimum=1), "five", "'kernel_size' must be an integer, got 'five'"),
    (ParamSpec("groups", "int", 1, minimum=1), True, "'groups' must be an integer, got True"),
    (ParamSpec("groups", "int", 1, minimum=1), 2.5, "'groups' must be an integer, got 2.5"),
    (ParamSpec("groups", "int", 1, minimum=1), 0, "'groups' must be >= 1, got 0"),
    (ParamSpec("p", "float", 0.5, minimum=0.0, maximum=1.0), 1.5, "'p' must be between 0 and 1, got 1.5"),
    (ParamSpec("p", "float", 0.5, minimum=0.0, maximum=1.0), math.nan, "'p' must be finite"),
    (ParamSpec("p", "float", 0.5), "0.5", "'p' must be a number, got '0.5'"),
    (ParamSpec("p", "float", 0.5), False, "'p' must be a number, got False"),
    (ParamSpec("n", "int", 1, maximum=10), 11, "'n' must be <= 10, got 11"),
    (ParamSpec("bias", "bool", True), 1, "'bias' must be true or false, got 1"),
    (ParamSpec("loss", "choice", "a", choices=("a", "b")), "c", "'loss' must be one of 'a', 'b', got 'c'"),
    (ParamSpec("k", "pair", (3, 3), minimum=1), [1, 2, 3], "'k' must be an integer or a pair of integers"),
    (ParamSpec("k", "pair", (3, 3), minimum=1), [0, 2], "'k' must be >= 1, got 0"),
    (ParamSpec("padding", "padding", (0, 0), minimum=0), "full", "'padding' must be an integer, a pair, 'same'"),
    (ParamSpec("shape", "shape", (3,), minimum=1), [], "'shape' must have at least one dimension"),
    (ParamSpec("shape", "shape", (3,), minimum=1), 3, "'shape' must be a list of integers, got 3"),
    (ParamSpec("name", "text", ""), 3, "'name' must be text, got 3"),
    (ParamSpec("n", "int", 1), None, "'n' must be an integer, got None"),  # not optional: None refused
])
def test_validate_refuses_with_a_message_naming_the_parameter(spec, value, message):
    with pytest.raises(ValueError) as info:
        spec.validate(value)
    assert message in str(info.value)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown parameter kind 'complex'"):
        ParamSpec("x", "complex")


def test_format_and_json():
    pair = ParamSpec("k", "pair", (3, 3))
    assert pair.format((5, 5)) == "5" and pair.format((3, 1)) == "3,1"
    assert ParamSpec("s", "shape", (3, 32, 32)).format((3, 32, 32)) == "3×32×32"
    assert ParamSpec("a", "int", None).format(None) == "auto"
    assert ParamSpec("f", "float", 1e-5).format(1e-5) == "1e-05"
    assert pair.to_json((2, 4)) == [2, 4] and ParamSpec("t", "text", "").to_json("x") == "x"


def test_validate_params_fills_defaults_and_names_unknown_parameters():
    specs = get_layer_type("Conv2d").params
    values = validate_params(specs, {"out_channels": 6, "kernel_size": 5})
    assert values["kernel_size"] == (5, 5) and values["stride"] == (1, 1) and values["in_channels"] is None
    assert list(values) == list(specs)
    with pytest.raises(ValueError, match="unknown parameters 'colour', 'size'; expected in_channels, out_channels"):
        validate_params(specs, {"size": 1, "colour": 2})


def test_every_default_is_valid_and_every_layer_describes_itself():
    for lt in layer_types():
        params = lt.default_params()
        assert validate_params(lt.params, params) == params, lt.name
        assert isinstance(lt.describe(params), str)
        for spec in lt.params.values():
            if spec.default is not None:
                assert spec.validate(spec.to_json(spec.default)) == spec.default


def test_settings_defaults_validate_and_refuse():
    defaults = default_settings()
    assert validate_settings({}) == defaults
    assert set(defaults) == set(SETTINGS_SPECS) == {s.name for g in SETTINGS_GROUPS.values() for s in g}
    assert validate_settings({"milestones": [5, 8]})["milestones"] == (5, 8)
    with pytest.raises(ValueError, match="'optimizer' must be one of 'SGD', 'Adam'"):
        validate_settings({"optimizer": "LBFGS"})
    with pytest.raises(ValueError, match="'batch_size' must be between 1 and 65536, got 0"):
        validate_settings({"batch_size": 0})
    with pytest.raises(ValueError, match="unknown parameter 'learning_rate'"):
        validate_settings({"learning_rate": 0.1})
