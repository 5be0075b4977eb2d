"""Audio: spectrograms computed once per front-end setting; the sample rate chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.io import wavfile

import automl
from automl.data import load_source
from automl.errors import SpecError
from automl.models import InputSpec, build_parts
from automl.search.spec import validate_spec
from automl.training import frontend_cache, measure

FRONT = {"frame_length": 256, "frame_step": 128, "mel_bins": 16}


def _wavs(root: Path, rate: int = 8000, per_class: int = 8, seconds: float = 0.25) -> Path:
    """Sine tones of three pitches, one class folder each, at ``rate`` Hz."""
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    for cls, freq in (("low", 300.0), ("mid", 900.0), ("high", 2000.0)):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            x = 0.5 * np.sin(2 * np.pi * freq * rng.uniform(0.95, 1.05) * t)
            x += 0.02 * rng.normal(size=t.size)
            wavfile.write(root / cls / f"{i}.wav", rate, (x * 32767).astype("int16"))
    return root


def _spec(root: Path, **data: Any) -> Any:
    return validate_spec(
        {
            "data": {"source": str(root), "kind": "audio", "duration": 0.25, **data},
            "task": "classification",
            "model": {"family": "audio"},
            "search": {**FRONT, "n_layers": 1, "units": 4, "dense_units": 0},
            "augmentation": {"time_mask": 0.1, "freq_mask": 0.1, "time_shift": 0.1},
            "training": {"max_epochs": 1, "patience": None},
            "pruner": {"name": "none"},
            "keep": 2,
        }
    )


@pytest.mark.slow
@pytest.mark.backend  # the cache and the waveform-in model on every backend
def test_trials_share_features_and_saved_models_take_waveforms(tmp_path: Path) -> None:
    root = _wavs(tmp_path / "wav")
    frontend_cache.clear()
    frontend_cache.counts.update(computed=0, reused=0)
    url = str(tmp_path / "j.log")
    sweep = automl.tune(_spec(root), trials=2, storage=url, in_process=True)
    # Two trials with one front-end setting: train and validation computed once each.
    assert frontend_cache.counts == {"computed": 2, "reused": 2}
    assert sweep.study.user_attrs["data"]["sample_rate"] == 8000
    from automl.study.context import splits_of

    x = splits_of(sweep.study, url).x_val
    model = sweep.pick()  # a saved model, loaded back: waveform in
    assert tuple(model.input.shape[1:]) == x.shape[1:]
    mel = model.get_layer("front_end").get_layer("mel").get_config()
    assert mel["sampling_rate"] == 8000  # the exported model states its rate
    in_model = measure.predict(model.get_layer("front_end"), x)
    cached, _ = frontend_cache.features(model.get_layer("front_end"), x)
    assert frontend_cache.counts["reused"] == 3  # the saved front end has the trial's setting
    np.testing.assert_allclose(cached, in_model, rtol=1e-4, atol=1e-3)
    body = measure.predict(model.get_layer("body"), cached)
    np.testing.assert_allclose(measure.predict(model, x), body, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_feature_cache_off_trains_the_whole_model(tmp_path: Path) -> None:
    root = _wavs(tmp_path / "wav", per_class=4)
    frontend_cache.clear()
    frontend_cache.counts.update(computed=0, reused=0)
    spec = _spec(root, feature_cache=False)
    sweep = automl.tune(spec, trials=1, storage=str(tmp_path / "a.log"), in_process=True)
    assert frontend_cache.counts == {"computed": 0, "reused": 0}
    assert sweep.best_trial.state == "COMPLETE"


@pytest.mark.backend
def test_cached_features_match_a_fresh_front_end_call() -> None:
    spec = InputSpec(shape=(2000,), task="classification", n_classes=3, sample_rate=8000)
    hp = {**FRONT, "body": "cnn", "n_layers": 1, "units": [4], "kernel_size": 3}
    hp |= {"pooling": "max", "activation": "relu", "batch_norm": False, "dropout": 0.0}
    parts = build_parts("audio", {**hp, "dense_units": 0}, spec)
    assert parts is not None and parts.cacheable
    x = np.random.default_rng(0).uniform(-1, 1, (300, 2000)).astype("float32")
    frontend_cache.clear()
    cached, _ = frontend_cache.features(parts.front, x)  # computed in batches of 256
    whole = parts.front(x, training=False)
    np.testing.assert_allclose(cached, np.asarray(whole), rtol=1e-4, atol=1e-3)
    noisy = build_parts("audio", {**hp, "dense_units": 0, "augmentation": {"noise": 0.01}}, spec)
    assert noisy is not None and not noisy.cacheable


def test_sample_rate_is_the_files_own_unless_asked(tmp_path: Path) -> None:
    root = _wavs(tmp_path / "wav", per_class=2)
    raw = load_source(_spec(root).data, "classification")
    assert raw.options["sample_rate"] == 8000 and raw.x.shape[1] == 2000
    raw = load_source(_spec(root, sample_rate=16000).data, "classification")
    assert raw.options["sample_rate"] == 16000 and raw.x.shape[1] == 4000
    high = _wavs(tmp_path / "hi", rate=44100, per_class=2)
    assert load_source(_spec(high).data, "classification").options["sample_rate"] == 16000


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("sample_rate", 50, "greater than or equal to 100"),
        ("sample_rate", "fast", "integer"),
        ("feature_cache", "maybe", "boolean"),
    ],
)
def test_bad_audio_settings_get_one_line(field: str, value: Any, words: str) -> None:
    raw = _spec(Path("x")).model_dump(mode="json")
    raw["data"][field] = value
    with pytest.raises(SpecError) as err:
        validate_spec(raw, origin="space.yaml")
    message = str(err.value)
    assert "\n" not in message and "space.yaml" in message
    assert f"data.{field}" in message and words in message
