"""Search-space validation: every rule names the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from automl.errors import SpecError
from automl.search.catalog import load_spec, ready_spaces
from automl.search.params import CategoricalParam, FixedParam, FloatParam, IntParam
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec, write_yaml


def test_every_ready_space_validates() -> None:
    names = set(ready_spaces())
    assert {"digits_mlp", "digits_cnn", "wine_mlp", "breast_cancer_mlp", "diabetes_mlp"} <= names
    for name in names:
        assert load_spec(name).name == name


def test_short_forms_are_inferred(tmp_path: Path) -> None:
    text = """
data: {source: digits}
model: {family: mlp}
search:
  n_layers: {low: 1, high: 3}
  units: {low: 8, high: 64, per_layer: true}
  learning_rate: {low: 1e-4, high: 1e-2, log: true}
  activation: [relu, gelu]
  dropout: 0.2
"""
    spec = load_spec(write_yaml(tmp_path / "s.yaml", text))
    assert isinstance(spec.search["n_layers"], IntParam)
    assert isinstance(spec.search["learning_rate"], FloatParam)
    assert spec.search["learning_rate"].low == pytest.approx(1e-4)  # 1e-4 is a float, not a str
    assert isinstance(spec.search["activation"], CategoricalParam)
    assert isinstance(spec.search["dropout"], FixedParam)
    assert spec.name == "s"


def test_spec_is_immutable() -> None:
    spec = validate_spec(tiny_spec())
    with pytest.raises(ValidationError, match="frozen"):
        spec.keep = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": "red"}, "unknown field 'colour'; allowed: augmentation, data"),
        (
            {"training": {"max_epochs": "ten"}},
            "training.max_epochs: Input should be a valid integer",
        ),
        (
            {"search": {"n_layers": {"low": 3, "high": 1}}},
            "search.n_layers: 'low' must be <= 'high'",
        ),
        ({"search": {"activation": ["relu", "swoosh"]}}, "'activation' must be one of relu"),
        (
            {"model": {"family": "transformer"}},
            "model.family: unknown family 'transformer'; valid: ",
        ),
        (
            {"search": {"dropout": {"low": 0.0, "high": 1.5}}},
            "'dropout' must be in [0, 1); got 1.5",
        ),
        (
            {"search": {"filters": 8}},
            "search.filters: unknown parameter for family 'mlp'; allowed:",
        ),
        ({"search": {"units": {"low": 8, "high": 9, "bogus": 1}}}, "unknown field 'bogus'"),
        ({"search": {"activation": {"choices": []}}}, "search.activation.choices"),
        ({"search": {"learning_rate": {"low": 0, "high": 1, "log": True}}}, "needs low > 0"),
        (
            {"search": {"dropout": {"low": 0.1, "high": 0.2, "per_layer": True}}},
            "cannot be per_layer",
        ),
        ({"objective": "val_f1"}, "objective.metric: unknown metric 'val_f1'; valid:"),
        ({"sampler": {"name": "annealing"}}, "sampler.name: Input should be 'tpe'"),
        (
            {"augmentation": {"rotation": 0.1}},
            "augmentation.rotation: family 'mlp' takes no augmentation",
        ),
        ({"data": {"source": "digits", "validation": 0.5, "test": 0.5}}, "must be < 0.9"),
        ({"sampler": {"name": "grid"}}, "the grid sampler needs 'choices' or a float 'step'"),
        ({"data": {}}, "data.source: required field is missing"),
        ({"objective": []}, "objective: give at least one metric"),
        (
            {"search": {"dropout": {"low": 0.0, "high": 0.2, "when": {"dropout": 0.1}}}},
            "search.dropout.when: a parameter cannot depend on itself",
        ),
        (
            {
                "search": {
                    "momentum": {"low": 0.1, "high": 0.9, "when": {"weight_decay": 0.1}},
                    "weight_decay": {"low": 0.0, "high": 0.2, "when": {"momentum": 0.5}},
                }
            },
            "conditions form a cycle",
        ),
    ],
)
def test_bad_specs_name_field_and_rule(change: dict, expected: str, tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "bad.yaml", tiny_spec(**change))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message
    assert "\n" not in message


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "broken.yaml", "data: {source: digits\nmodel: [mlp\n")
    with pytest.raises(SpecError, match=r"broken\.yaml:\d+:\d+: YAML syntax error"):
        load_spec(path)


def test_missing_file_and_unknown_space() -> None:
    with pytest.raises(SpecError, match="nowhere.yaml: no such file"):
        load_spec("nowhere.yaml")
    with pytest.raises(SpecError, match="neither a file nor a ready search space; ready: "):
        load_spec("no_such_space")


def test_relative_data_path_is_read_next_to_the_yaml(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,label\n1,x\n")
    spec = load_spec(write_yaml(tmp_path / "s.yaml", tiny_spec(data={"source": "d.csv"})))
    assert Path(spec.data.source) == (tmp_path / "d.csv").resolve()


def test_objective_defaults_follow_task() -> None:
    spec = validate_spec(tiny_spec())
    assert spec.objectives("classification")[0].metric == "val_accuracy"
    assert spec.objectives("classification")[0].direction == "maximize"
    assert spec.objectives("regression")[0].direction == "minimize"
    multi = validate_spec(tiny_spec(objective=["val_accuracy", "params_count"]))
    assert [o.direction for o in multi.objectives("classification")] == [
        "maximize",
        "minimize",
    ]


def test_replace_revalidates() -> None:
    spec = validate_spec(tiny_spec())
    assert spec.replace(**{"data.source": "wine"}).data.source == "wine"
    with pytest.raises(SpecError, match="model.family"):
        spec.replace(**{"model.family": "nope"})
