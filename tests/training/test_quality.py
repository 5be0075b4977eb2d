"""Training-loop quality features: schedules, smoothing, class weights, no_progress,
cross-validation folds, ensembles (greedy selection, one .keras model) and refit."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from automl.data import Splits
from automl.errors import SpecError, TrialStopped
from automl.models import InputSpec, build_model
from automl.ranking import Objective
from automl.search.spec import validate_spec
from automl.study import ensemble
from automl.training import callbacks
from automl.training.fit import compile_model, fit
from automl.training.folds import fold_splits
from tests.helpers import mlp_hp, tiny_spec


def _data(n: int = 150) -> Splits:
    rng = np.random.default_rng(0)
    x = rng.random((n, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 1.0).astype("int32")
    spec = InputSpec(shape=(4,), task="classification", n_classes=2)
    a, b = n // 2, 3 * n // 4
    return Splits(x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], spec, ["0", "1"], "t")


_hp = mlp_hp


def _fit(hp: dict, data: Splits, epochs: int = 4, no_progress: int = 0):
    model = build_model("mlp", hp, data.input_spec)
    compile_model(model, data.input_spec, hp)
    limits = {"max_epochs": epochs, "patience": None, "no_progress_epochs": no_progress}
    return model, fit(model, data, hp, objective=Objective.of("val_loss"), **limits)


# -- tunables are validated with one-line errors ---------------------------------------------
@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("lr_schedule", ["constant", "linear"], "constant, cosine, plateau"),
        ("warmup_epochs", {"low": 0, "high": 500}, "[0, 100]"),
        ("label_smoothing", 0.7, "[0, 0.5]"),
        ("class_weight", ["none", "auto"], "none, balanced"),
        ("weight_decay", 2.0, "[0, 1]"),
        ("categorical_encoding", ["onehot", "target"], "onehot, embedding"),
        ("embedding_min_levels", 0, "[1, 100000]"),
    ],
)
def test_each_new_tunable_rejects_bad_values(name: str, value: object, allowed: str) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(tiny_spec(search={name: value}), origin="x.yaml")
    text = str(info.value)
    assert "\n" not in text and "x.yaml" in text and f"search.{name}" in text and allowed in text


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [("data", "folds", 1), ("training", "no_progress_epochs", -1), ("training", "refit", "x")],
)
def test_new_options_reject_bad_values(section: str, field: str, value: object) -> None:
    raw = tiny_spec()
    raw[section] = {**raw[section], field: value}
    with pytest.raises(SpecError) as info:
        validate_spec(raw, origin="x.yaml")
    assert "\n" not in str(info.value) and f"{section}.{field}" in str(info.value)


def test_schedules_warm_up_then_decay() -> None:
    rates = [callbacks.lr_at(e, 1.0, "cosine", 2, 10) for e in range(10)]
    assert rates[0] < rates[1] < rates[2] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(rates[2:], rates[3:], strict=False))
    assert rates[-1] == pytest.approx(callbacks.COSINE_FLOOR)
    assert [callbacks.lr_at(e, 0.5, "constant", 0, 10) for e in range(3)] == [0.5] * 3


@pytest.mark.backend
def test_plateau_halves_the_rate_after_epochs_without_improvement() -> None:
    data = _data()
    model = build_model("mlp", _hp(), data.input_spec)
    compile_model(model, data.input_spec, _hp())
    hp = _hp(lr_schedule="plateau", learning_rate=0.1)
    schedule = callbacks.LearningRate(hp, 10, Objective.of("val_loss"))
    schedule.set_model(model)
    rates = []
    for epoch, val_loss in enumerate([1.0, 0.9, 0.95, 0.95, 0.8, 0.85]):
        schedule.on_epoch_begin(epoch)
        logs = {"val_loss": val_loss}
        schedule.on_epoch_end(epoch, logs)
        rates.append(logs[callbacks.LR_KEY])
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05])
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.05)


@pytest.mark.backend
def test_the_learning_rate_of_each_epoch_is_in_the_history() -> None:
    _, result = _fit(_hp(lr_schedule="cosine", warmup_epochs=1), _data(), epochs=4)
    assert result.history[callbacks.LR_KEY] == pytest.approx(
        [callbacks.lr_at(e, 1e-3, "cosine", 1, 4) for e in range(4)]
    )


@pytest.mark.slow
@pytest.mark.backend
def test_label_smoothing_keeps_val_loss_the_plain_cross_entropy() -> None:
    data = _data()
    keras.utils.set_random_seed(0)
    model, result = _fit(_hp(label_smoothing=0.3), data, epochs=2)
    out = np.clip(model.predict(data.x_val, verbose=0), 1e-7, 1)
    plain = -np.mean(np.log(out[np.arange(len(data.y_val)), data.y_val]))
    assert result.history["val_loss"][-1] == pytest.approx(plain, rel=1e-3)
    assert not any(k.endswith(callbacks.PLAIN) for k in result.history)


def test_balanced_class_weights_up_weight_the_rare_class() -> None:
    spec = InputSpec(shape=(1,), task="classification", n_classes=2)
    weights = callbacks.class_weights({"class_weight": "balanced"}, spec, np.array([0, 0, 0, 1]))
    assert weights == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}
    assert callbacks.class_weights({"class_weight": "none"}, spec, np.array([0, 1])) is None


# -- no_progress ---------------------------------------------------------------------------
def _rule(task: str = "classification", y_train=None, y_val=None, epochs: int = 5, **hp):
    from types import SimpleNamespace

    k = 10 if task == "classification" else 0
    spec = InputSpec(shape=(4,), task=task, n_classes=k)
    balanced = np.arange(200) % 10
    y_train = balanced if y_train is None else y_train
    y_val = balanced if y_val is None else y_val
    return callbacks.NoProgress(
        hp, SimpleNamespace(input_spec=spec, y_train=y_train, y_val=y_val), epochs
    )


def _replay(rule: callbacks.NoProgress, curve: list[dict[str, float]]) -> int | None:
    """The epoch (1-based) at which the rule ends the curve, or None."""
    for epoch, logs in enumerate(curve):
        try:
            rule.on_epoch_end(epoch, dict(logs))
        except TrialStopped as exc:
            assert exc.reason == "no_progress"
            return epoch + 1
    return None


def test_no_progress_ends_a_flat_curve_at_epoch_n_not_before() -> None:
    dead = [{"val_accuracy": 0.1, "loss": 2.303}] * 8
    assert _replay(_rule(epochs=5), dead) == 5
    diverged = [{"val_accuracy": 0.12, "loss": 2.9}] * 8  # rmsprop with momentum 0.9
    assert _replay(_rule(epochs=5), diverged) == 5


def test_no_progress_spares_a_falling_train_loss_and_a_slow_starter() -> None:
    # Batch-norm lag: validation flat at chance for 7 epochs while the train loss falls.
    lag = [{"val_accuracy": 0.1, "loss": loss} for loss in (1.5, 0.5, 0.2, 0.1, 0.05, 0.03, 0.02)]
    assert _replay(_rule(), [*lag, {"val_accuracy": 0.95, "loss": 0.02}]) is None
    slow = [{"val_accuracy": 0.1, "loss": 2.30}] * 4 + [{"val_accuracy": 0.3, "loss": 2.2}] * 4
    assert _replay(_rule(), slow) is None


def test_no_progress_chance_follows_the_class_shares() -> None:
    # 70 % of the validation split is one class: 0.72 is a constant guess, not progress.
    y = np.array([0] * 140 + list(range(1, 10)) * 6 + [0] * 6)
    rule = _rule(y_train=y, y_val=y)
    prior = np.bincount(y, minlength=10) / len(y)
    entropy = float(-(prior[prior > 0] * np.log(prior[prior > 0])).sum())
    assert rule.loss_limit == pytest.approx(callbacks.NO_PROGRESS_LOSS * entropy)
    assert _replay(rule, [{"val_accuracy": 0.72, "loss": entropy}] * 6) == 5
    assert _replay(_rule(y_train=y, y_val=y), [{"val_accuracy": 0.8, "loss": entropy}] * 6) is None


def test_no_progress_compares_a_smoothed_loss_with_the_smoothed_constant() -> None:
    y = np.array([0] * 140 + list(range(1, 10)) * 6 + [0] * 6)  # one class is 73 %
    plain, smoothed = _rule(y_train=y, y_val=y), _rule(y_train=y, y_val=y, label_smoothing=0.2)
    # Smoothed targets move the best constant toward uniform: its loss is higher.
    assert smoothed.loss_limit > plain.loss_limit
    between = (plain.loss_limit + smoothed.loss_limit) / 2
    # A smoothed loss below its own constant guess is progress, though above the plain one.
    curve = [{"val_accuracy": 0.7, "loss": between}] * 6
    assert _replay(smoothed, curve) is None
    assert _replay(plain, curve) == 5
    stuck = [{"val_accuracy": 0.7, "loss": smoothed.loss_limit / 0.97}] * 6
    assert _replay(_rule(y_train=y, y_val=y, label_smoothing=0.2), stuck) == 5


def test_no_progress_for_regression_reads_standardized_losses() -> None:
    flat = [{"val_loss": 1.01, "loss": 0.99}] * 6
    assert _replay(_rule("regression"), flat) == 5
    fitting = [{"val_loss": 1.01, "loss": 0.6}] * 6
    assert _replay(_rule("regression"), fitting) is None


@pytest.mark.parametrize(("patience", "judged"), [(4, 4), (2, 3), (1, 3), (None, 5)])
def test_no_progress_checks_from_a_shorter_patience_but_not_before_epoch_3(
    patience: int | None, judged: int
) -> None:
    data = _data()
    _, after = callbacks.callbacks(
        _hp(),
        data,
        max_epochs=9,
        objective=Objective.of("val_loss"),
        no_progress_epochs=5,
        patience=patience,
    )
    assert [c.epochs for c in after] == [judged]


@pytest.mark.slow
@pytest.mark.backend
def test_a_model_that_cannot_learn_is_stopped_at_epoch_n() -> None:
    data = _data()
    hp = _hp(learning_rate=1e-12)
    model = build_model("mlp", hp, data.input_spec)
    compile_model(model, data.input_spec, hp)
    out = model.layers[-1]  # zero output weights: a constant (uniform) guess
    for weight in out.weights:
        weight.assign(np.zeros(weight.shape, dtype="float32"))
    limits = {"max_epochs": 6, "patience": None, "no_progress_epochs": 3}
    with pytest.raises(TrialStopped) as info:
        fit(model, data, hp, objective=Objective.of("val_loss"), **limits)
    assert info.value.reason == "no_progress"
    assert len(info.value.history["val_accuracy"]) == 3


@pytest.mark.backend
def test_a_learning_model_is_not_stopped() -> None:
    keras.utils.set_random_seed(0)
    _, result = _fit(_hp(learning_rate=3e-2), _data(), epochs=4, no_progress=3)
    assert result.epochs == 4


# -- folds -----------------------------------------------------------------------------------
def test_folds_cover_the_non_test_rows_and_never_a_test_row() -> None:
    data = _data()
    folds = list(fold_splits(data, 5, seed=0))
    test_rows = {tuple(r) for r in data.x_test}
    seen_val: list[tuple] = []
    for f in folds:
        assert not test_rows & {tuple(r) for r in np.concatenate([f.x_train, f.x_val])}
        assert np.array_equal(f.x_test, data.x_test)
        seen_val += [tuple(r) for r in f.x_val]
    pooled = {tuple(r) for r in np.concatenate([data.x_train, data.x_val])}
    assert len(seen_val) == len(pooled) and set(seen_val) == pooled


# -- ensembles -------------------------------------------------------------------------------
def _member(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inp = keras.Input((4,))
    out = keras.layers.Dense(3, activation="softmax", name="out")(keras.layers.Dense(5)(inp))
    return keras.Model(inp, out)


@pytest.mark.backend
def test_ensemble_output_is_the_mean_of_its_members(tmp_path: Path) -> None:
    a, b = _member(1), _member(2)
    model = ensemble.build([a, a, b])
    x = np.random.default_rng(0).random((7, 4)).astype("float32")
    pa, pb = (keras.ops.convert_to_numpy(m(x)) for m in (a, b))
    out = keras.ops.convert_to_numpy(model(x))
    assert np.allclose(out, (2 * pa + pb) / 3, atol=1e-6)
    path = tmp_path / "e.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert np.allclose(keras.ops.convert_to_numpy(loaded(x)), out, atol=1e-6)


def test_greedy_selection_adds_members_only_while_validation_improves() -> None:
    y = np.array([0, 1, 0, 1])
    # Each half-right model errs on different samples; their mean is right everywhere.
    left = np.array([[0.9, 0.1], [0.6, 0.4], [0.9, 0.1], [0.6, 0.4]])
    right = np.array([[0.4, 0.6], [0.1, 0.9], [0.4, 0.6], [0.1, 0.9]])
    bad = np.array([[0.1, 0.9], [0.9, 0.1], [0.1, 0.9], [0.9, 0.1]])
    picks = ensemble.greedy([left, bad, right], y, "classification", rounds=5)
    assert sorted(set(picks)) == [0, 2]
    mean = np.mean([[left, bad, right][i] for i in picks], axis=0)
    assert ensemble.loss("classification", y, mean) < ensemble.loss("classification", y, left)
    assert ensemble.greedy([left, bad], y, "classification", rounds=3) == [0]


# -- table scaling ---------------------------------------------------------------------------
@pytest.mark.backend
def test_quantile_scaling_maps_skewed_columns_to_normal_inside_a_safe_model(
    tmp_path: Path,
) -> None:
    from scipy.stats import norm

    from automl.models.scaling import quantile_front

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.lognormal(size=400), rng.integers(0, 2, 400), np.ones(400)])
    inner = keras.Model(inp := keras.Input((3,)), keras.layers.Identity()(inp))
    model = quantile_front(inner, x.astype("float32"))
    out = keras.ops.convert_to_numpy(model(x.astype("float32")))
    order = np.argsort(x[:, 0])
    assert np.all(np.diff(out[order, 0]) >= -1e-5)  # monotone
    ranks = (np.argsort(order) + 0.5) / len(x)
    middle = (ranks > 0.02) & (ranks < 0.98)  # the tails follow the outermost knots
    gap = np.abs(out[middle, 0] - norm.ppf(ranks[middle]))  # linear between 33 knots
    assert gap.max() < 0.2 and gap.mean() < 0.05
    assert abs(out[:, 0].mean()) < 0.05 and abs(out[:, 0].std() - 1) < 0.1
    assert len(np.unique(out[:, 1].round(4))) == 2 and np.allclose(out[:, 2], 1.0)
    model.save(tmp_path / "q.keras")
    loaded = keras.saving.load_model(tmp_path / "q.keras", safe_mode=True, compile=False)
    assert np.allclose(keras.ops.convert_to_numpy(loaded(x.astype("float32"))), out, atol=1e-5)


def test_scaling_is_an_mlp_tunable_with_one_line_errors() -> None:
    validate_spec(tiny_spec(search={"scaling": ["standard", "quantile"]}))
    with pytest.raises(SpecError) as info:
        validate_spec(tiny_spec(search={"scaling": ["minmax"]}), origin="x.yaml")
    assert "standard, quantile" in str(info.value) and "\n" not in str(info.value)


# -- category columns: one-hot or embedded inside the model ---------------------------------
@pytest.mark.backend
def test_category_codes_are_one_hot_or_embedded_by_level_count() -> None:
    from automl.models.mlp import embedding_dim
    from automl.models.scaling import quantile_front

    spec = InputSpec(shape=(3,), task="classification", n_classes=2, categories=(60, 4))
    x = np.array([[0.5, 0.0, 2.0], [-1.0, 55.0, 4.0]], dtype="float32")  # 4: an unseen level
    onehot = build_model("mlp", _hp(categorical_encoding="onehot"), spec)
    encoded = keras.Model(onehot.input, onehot.get_layer("encoded").output)(x)
    rows = keras.ops.convert_to_numpy(encoded)
    assert rows.shape == (2, 1 + 50 + 5)  # the number, 49 levels + rare/unseen, 4 + unseen
    assert rows[1, 0] == -1.0 and rows[1, 1 + 49] == 1.0 and rows[1, 51 + 4] == 1.0
    assert rows.sum(axis=1).tolist() == [0.5 + 2, -1.0 + 2]
    embedded = build_model("mlp", _hp(categorical_encoding="embedding"), spec)
    names = {layer.name: layer for layer in embedded.layers}
    assert names["category0_embedding"].output_dim == embedding_dim(60) and embedding_dim(60) == 16
    assert "category1_onehot" in names and "category1_embedding" not in names
    front = quantile_front(onehot, np.random.default_rng(0).normal(size=(50, 3)), passthrough=2)
    inner = keras.Model(front.input, front.get_layer("quantile_map").output)
    assert keras.ops.convert_to_numpy(inner(x))[:, 1:].tolist() == x[:, 1:].tolist()
