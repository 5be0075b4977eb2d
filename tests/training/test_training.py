"""Training: per-epoch reports to the pruner, NaN and divergence fail the trial."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from automl.data import Splits
from automl.errors import Pruned, TrialFailed
from automl.models import InputSpec, build_model
from automl.ranking import Objective, best_epoch
from automl.training.fit import BestWeights, compile_model, exploded, fit
from automl.training.measure import predict, score
from tests.helpers import mlp_hp

pytestmark = pytest.mark.backend


def _data(n: int = 90) -> Splits:
    rng = np.random.default_rng(0)
    x = rng.random((n, 4)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int32")
    spec = InputSpec(shape=(4,), task="classification", n_classes=2)
    a, b = n // 3, 2 * n // 3
    return Splits(x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], spec, ["0", "1"], "t")


_hp = mlp_hp


class Recorder:
    def __init__(self, prune_at: int | None = None) -> None:
        self.reports: list[tuple[int, float]] = []
        self.prune_at = prune_at

    def report(self, value: float, step: int) -> None:
        self.reports.append((step, value))

    def should_prune(self) -> bool:
        return self.prune_at is not None and len(self.reports) >= self.prune_at


def _fit(hp: dict, reporter: Recorder | None = None, epochs: int = 3, seed: int = 0):
    keras.utils.set_random_seed(seed)  # the same initial weights every run, on every backend
    data = _data()
    model = build_model("mlp", hp, data.input_spec)
    compile_model(model, data.input_spec, hp)
    return model, fit(
        model,
        data,
        hp,
        max_epochs=epochs,
        patience=None,
        objective=Objective.of("val_accuracy"),
        reporter=reporter,
    )


def test_every_epoch_is_reported_and_history_kept() -> None:
    rec = Recorder()
    _, result = _fit(_hp(), rec, epochs=3)
    assert [step for step, _ in rec.reports] == [0, 1, 2]
    assert result.history["val_accuracy"] == [v for _, v in rec.reports]
    assert result.val_metrics["val_accuracy"] == max(result.history["val_accuracy"])


def test_pruner_stops_training_and_keeps_the_curve() -> None:
    with pytest.raises(Pruned) as info:
        _fit(_hp(), Recorder(prune_at=2), epochs=10)
    assert len(info.value.history["val_accuracy"]) == 2


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_absurd_learning_rate_fails_with_reason_nan(optimizer: str, seed: int) -> None:
    # Whatever the initial weights: a saturated model can keep a modest clipped loss.
    with pytest.raises(TrialFailed) as info:
        _fit(_hp(learning_rate=1e4, optimizer=optimizer), epochs=3, seed=seed)
    assert info.value.reason == "nan"


def test_exploded_weights_are_divergence_even_with_a_low_loss() -> None:
    model, _ = _fit(_hp(), epochs=1)
    assert exploded(model) == ""
    weight = model.trainable_weights[0]
    weight.assign(keras.ops.ones(weight.shape) * 5e3)
    assert "reached 5e+03" in exploded(model)
    weight.assign(keras.ops.full(weight.shape, float("nan")))
    assert "not finite" in exploded(model)


def test_latency_and_test_metrics() -> None:
    model, result = _fit(_hp(), epochs=2)
    data = _data()
    assert 0 < result.latency_ms < 1000
    out = predict(model, data.x_test)
    assert np.allclose(out, model.predict(data.x_test, verbose=0), atol=1e-5)
    metrics = score("classification", data.y_test, out)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and "f1_macro" in metrics
    reg = score("regression", np.array([1.0, 2.0]), np.array([[1.0], [3.0]]))
    assert reg["mae"] == pytest.approx(0.5) and reg["rmse"] == pytest.approx(np.sqrt(0.5))


def test_rmsprop_takes_momentum_only_when_the_space_tunes_it() -> None:
    from automl.models.optimizers import make_optimizer

    plain = make_optimizer({"optimizer": "rmsprop", "learning_rate": 1e-3})
    tuned = make_optimizer({"optimizer": "rmsprop", "learning_rate": 1e-3, "momentum": 0.5})
    sgd = make_optimizer({"optimizer": "sgd", "learning_rate": 1e-3})
    assert plain.momentum == 0.0  # Keras' default: SGD's 0.9 stalls RMSprop
    assert tuned.momentum == pytest.approx(0.5)
    assert sgd.momentum == pytest.approx(0.9)


def test_epochs_tied_on_accuracy_keep_the_weights_of_the_lowest_validation_loss() -> None:
    """The first epoch to touch the best accuracy is not kept when a later tie has a lower
    loss: the kept weights, the stored epoch and its metrics follow the trial tie rule."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = BestWeights(Objective.of("val_accuracy"), patience=2)
    stopper.set_model(model)
    model.stop_training = False  # fit() sets it; here the epochs are driven by hand
    stopper.on_train_begin()
    history = {"val_accuracy": [0.5, 0.9, 0.9, 0.9, 0.8], "val_loss": [1.0, 0.5, 0.3, 0.4, 0.2]}
    weights = []
    for epoch in range(5):
        model.set_weights([np.full((2, 1), float(epoch)), np.zeros(1)])
        weights.append(model.get_weights())
        logs = {k: v[epoch] for k, v in history.items()}
        stopper.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    stopper.on_train_end()
    assert epoch == 3  # patience counts from the first 0.9: ties do not extend training
    np.testing.assert_array_equal(model.get_weights()[0], weights[2][0])
    assert best_epoch(history, Objective.of("val_accuracy")) == 2
    assert best_epoch(history, Objective.of("val_loss")) == 4
    assert best_epoch({"val_accuracy": [0.9, 0.9]}, Objective.of("val_accuracy")) == 0
