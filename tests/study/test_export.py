"""Export to every format, run in its own runtime: for every model family, what the exported
artifact predicts is what the Keras model predicts; its JSON says what it takes; what cannot
be exported is one line naming the formats that work."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.data.make_interactions import generate
from automl.study.context import splits_of
from automl.study.export import NEEDS, backend, resolve_format
from tests.helpers import make, missing
from tests.helpers.saved_models import study_with_model

runner = CliRunner()
FORMATS = ("keras", "saved_model", "onnx", "litert")
OUT = {"keras": "m.keras", "saved_model": "m", "onnx": "m.onnx", "litert": "m.tflite"}
SIDECAR = {f: f"{OUT[f]}.json" for f in FORMATS} | {"saved_model": "m/automl.json"}
FAST = {"training.max_epochs": 1, "training.patience": 1, "pruner": {"name": "none"}}


def _interactions(folder: Path) -> Path:
    path = folder / "ratings.csv"
    generate(30, 40, 500, implicit=False, seed=1).to_csv(path, index=False)
    return path


# Per family: a ready space, its data, and changes that keep the model tiny. Each trains
# one trial of one epoch (mlp two, for an ensemble), and covers a converter's hard case:
# random augmentation and GELU (cnn), bidirectional recurrent layers unrolled for LiteRT
# (rnn, text), a spectrogram front end (audio), integer id inputs (text, recommender).
FAMILIES: dict[str, tuple[str, Callable[[Path], Path] | None, dict[str, Any]]] = {
    "mlp": (
        "tabular_csv_mlp",
        lambda d: make.tabular_csv(d / "table.csv", n=90),
        {"search.n_layers": 1, "search.units": 16, "search.scaling": "quantile", "keep": 2},
    ),
    "cnn": (
        "digits_cnn",
        None,
        {
            "search.n_layers": 1,
            "search.filters": 8,
            "search.activation": "gelu",
            "augmentation": {"crop": 1, "flip": "horizontal"},
        },
    ),
    "rnn": (
        "sequence_lstm",
        lambda d: make.sequences_npz(d / "series.npz", n=60, steps=12),
        {"search.n_layers": 1, "search.units": 8, "search.cell": "gru"},
    ),
    "conv1d": (
        "sequence_lstm",
        lambda d: make.sequences_npz(d / "series.npz", n=60, steps=12),
        {"model.family": "conv1d", "search": {"n_layers": 1, "filters": 8}, "augmentation": {}},
    ),
    "text": (
        "text_lstm",
        lambda d: make.text_csv(d / "reviews.csv", n=60),
        {
            "search.body": "lstm",
            "search.n_layers": 1,
            "search.units": 8,
            "search.embedding_dim": 8,
            "search.bidirectional": True,
        },
    ),
    "audio": (
        "audio_cnn",
        lambda d: make.audio(d / "recordings", per_class=4, seconds=0.5),
        {"search.n_layers": 1, "search.units": 8, "search.mel_bins": 16},
    ),
    "recommender": (
        "ratings_mf",
        _interactions,
        {
            "search.body": "neumf",
            "search.embedding_dim": 8,
            "search.n_layers": 1,
            "search.units": 8,
        },
    ),
}
# What cannot work, and the formats its one line names.
CANNOT = {("audio", "onnx"): "keras, saved_model, litert"}


def predict(fmt: str, out: Path, x: np.ndarray) -> np.ndarray:
    """Run an exported artifact in its own runtime, as a user serving it does."""
    if fmt == "keras":
        import keras

        return np.asarray(keras.saving.load_model(out, safe_mode=True).predict(x, verbose=0))
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])
    if fmt == "litert":
        signature = _interpreter(out).get_signature_runner()
        (name,) = signature.get_input_details()
        return np.asarray(next(iter(signature(**{name: x}).values())))
    import tensorflow as tf

    loaded = tf.saved_model.load(str(out))
    return np.asarray(loaded.serve(x))


def _interpreter(path: Path) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        missing("the LiteRT interpreter (pip install ai-edge-litert) is not installed")
    return Interpreter(model_path=str(path))


def _export(sweep: automl.Sweep, out: Path, *more: str) -> Any:
    args = ["export", sweep.study_name, "--out", str(out), "--storage", sweep.storage, *more]
    return runner.invoke(app, args)


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def trained(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, automl.Sweep, np.ndarray]:
    """One tiny study per family, and a few of its test samples (preprocessed)."""
    family = request.param
    space, maker, changes = FAMILIES[family]
    folder = tmp_path_factory.mktemp(family)
    data = str(maker(folder)) if maker else None
    sweep = automl.tune(
        space,
        trials=2 if family == "mlp" else 1,
        study=family,
        storage=str(folder / "journal.log"),
        data=data,
        overrides={**FAST, **changes},
        in_process=True,
    )
    x = splits_of(sweep.study, sweep.storage).x_test[:6]
    return family, sweep, x


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_exported_model_predicts_what_keras_predicts(
    trained: tuple[str, automl.Sweep, np.ndarray], fmt: str, tmp_path: Path
) -> None:
    family, sweep, x = trained
    done = _export(sweep, tmp_path / OUT[fmt])
    if (family, fmt) in CANNOT:
        assert done.exit_code == 2, done.output
        line = done.output.strip()
        assert "\n" not in line and line.endswith(
            f"formats that work for it: {CANNOT[family, fmt]}"
        )
        assert not (tmp_path / OUT[fmt]).exists()
        return
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"wrote {tmp_path / OUT[fmt]}"
    expected = sweep.best_model().predict(x, verbose=0)
    got = predict(fmt, tmp_path / OUT[fmt], x)
    assert got.shape == expected.shape and float(np.max(np.abs(got - expected))) <= 1e-4
    card = json.loads((tmp_path / SIDECAR[fmt]).read_text(encoding="utf-8"))
    _check_card(card, family, fmt, x, sweep)
    _check_preprocessing(card, family, fmt, tmp_path, sweep)


def _check_card(
    card: dict[str, Any], family: str, fmt: str, x: np.ndarray, sweep: automl.Sweep
) -> None:
    (inp,) = card["inputs"]
    assert inp["shape"] == [None, *x.shape[1:]] and inp["dtype"] == str(x.dtype)
    assert card["format"] == fmt and card["model"]["family"] == family
    assert card["task"] == sweep.task and len(card["outputs"]) == 1
    if sweep.task == "classification":
        classes = card["classes"]
        assert card["outputs"][0]["shape"] == [None, len(classes)] and "classes" in card["returns"]


def _check_preprocessing(
    card: dict[str, Any], family: str, fmt: str, folder: Path, sweep: automl.Sweep
) -> None:
    """The JSON's recipe turns new raw samples into what the artifact takes."""
    how = card["preprocessing"]
    base = folder / "m" if fmt == "saved_model" else folder
    if family == "text":
        from automl.data.text import encode, load_tokenizer

        assert how["inputs"] == "token ids"
        ids = encode(["a brand new sentence", "great"], load_tokenizer(base / how["tokenizer"]))
        expected = sweep.best_model().predict(ids, verbose=0)
        assert np.max(np.abs(predict(fmt, folder / OUT[fmt], ids) - expected)) <= 1e-4
    elif family == "recommender":
        vocab = json.loads((base / how["vocabulary"]).read_text(encoding="utf-8"))
        user, item = vocab["users"][-1], vocab["items"][-1]
        pair = np.array([[vocab["users"].index(user), vocab["items"].index(item)]], "int32")
        expected = sweep.best_model().predict(pair, verbose=0)
        got = predict(fmt, folder / OUT[fmt], pair)
        assert how["inputs"] == "ids" and np.max(np.abs(got - expected)) <= 1e-4
    elif family == "audio":
        assert (
            how["inputs"] == "raw"
            and str(sweep.study.user_attrs["data"]["sample_rate"]) in (how["how"])
        )
    else:
        assert how["inputs"] == "preprocessed" and how["python"].startswith("automl.load(")


@pytest.mark.slow
def test_an_ensemble_and_a_given_trial_export_the_same_way(tmp_path: Path) -> None:
    space, maker, changes = FAMILIES["mlp"]
    assert maker is not None
    storage = str(tmp_path / "journal.log")
    sweep = automl.tune(
        space,
        trials=2,
        study="two",
        storage=storage,
        data=str(maker(tmp_path)),
        overrides={**FAST, **changes},
        in_process=True,
    )
    x = splits_of(sweep.study, storage).x_test[:6]
    assert _export(sweep, tmp_path / "e.onnx", "--ensemble", "2").exit_code == 0
    expected = sweep.ensemble(2).predict(x, verbose=0)
    assert np.max(np.abs(predict("onnx", tmp_path / "e.onnx", x) - expected)) <= 1e-4
    card = json.loads((tmp_path / "e.onnx.json").read_text(encoding="utf-8"))
    assert sorted(card["model"]["ensemble"]) == [0, 1]
    other = 1 - sweep.best_trial.number
    done = _export(sweep, tmp_path / "t.bin", "--trial", str(other), "--format", "litert")
    assert done.exit_code == 0, done.output
    expected = sweep.model(other).predict(x, verbose=0)
    assert np.max(np.abs(predict("litert", tmp_path / "t.bin", x) - expected)) <= 1e-4
    card = json.loads((tmp_path / "t.bin.json").read_text(encoding="utf-8"))
    assert card["model"] == {"family": "mlp", "trial": other, "refit": False}


@pytest.mark.slow
def test_a_savedmodel_folder_is_replaced_only_when_it_is_one(tmp_path: Path) -> None:
    url = str(tmp_path / "studies" / "journal.log")
    study_with_model(url)
    sweep = automl.load("s", url)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _export(sweep, empty).exit_code == 0  # an empty folder takes it, no --force
    assert (empty / "saved_model.pb").is_file() and (empty / "automl.json").is_file()
    again = _export(sweep, empty)
    assert again.exit_code == 1 and "exists; not replaced (--force replaces it)" in again.output
    assert _export(sweep, empty, "--force").exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    done = _export(sweep, mine, "--force")
    assert done.exit_code == 2 and "holds other files than a SavedModel" in done.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_the_suffix_names_the_format(tmp_path: Path) -> None:
    from automl.errors import ExportError

    assert [resolve_format(Path(p), None) for p in ("a.keras", "a.ONNX", "a.tflite", "a")] == [
        "keras",
        "onnx",
        "litert",
        "saved_model",
    ]
    (tmp_path / "served.v2").mkdir()
    assert resolve_format(tmp_path / "served.v2", None) == "saved_model"
    assert resolve_format(Path("model.bin"), "litert") == "litert"
    with pytest.raises(ExportError, match="the suffix .onnx means format onnx, not keras"):
        resolve_format(Path("a.onnx"), "keras")


@pytest.fixture
def saved(tmp_path: Path) -> str:
    url = str(tmp_path / "studies" / "journal.log")
    study_with_model(url)
    return url


@pytest.mark.parametrize(
    ("out", "more", "message"),
    [
        (
            "best.h5",
            [],
            "error: best.h5: unknown export suffix '.h5'; valid: .keras (keras), .onnx (onnx), "
            ".tflite (litert), or a folder with no suffix (saved_model); or pass --format",
        ),
        (
            "best.tflite",
            ["--format", "tflite"],
            "error: --format: unknown export format 'tflite'; valid: keras, litert, onnx, "
            "saved_model",
        ),
    ],
)
def test_an_unknown_format_is_one_line(
    saved: str, tmp_path: Path, out: str, more: list[str], message: str
) -> None:
    done = runner.invoke(app, ["export", "s", "-o", str(tmp_path / out), "--storage", saved, *more])
    assert done.exit_code == 2
    assert done.output.strip() == message.replace(out, str(tmp_path / out), 1)
    assert list(tmp_path.glob("best*")) == []


def test_a_missing_converter_is_one_line_with_the_install_command(
    saved: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needed = NEEDS.get(("onnx", backend()))
    if not needed:
        pytest.skip(f"onnx export is not available on {backend()}")
    monkeypatch.setitem(sys.modules, needed[0], None)  # as if it were not installed
    done = runner.invoke(app, ["export", "s", "-o", str(tmp_path / "m.onnx"), "--storage", saved])
    assert done.exit_code == 2
    assert done.output.strip() == (
        f"error: format onnx needs {needed[0]}, which is not installed; run: pip install "
        f"'.[onnx]' in the automl checkout, or pip install '{needed[0]}'"
    )
    assert not (tmp_path / "m.onnx").exists()


def test_the_docs_onnxruntime_example_runs(
    saved: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "export.md").read_text("utf-8")
    section = page.split("## Serve it with onnxruntime", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["export", "s", "-o", "best.onnx", "--storage", saved])
    assert done.exit_code == 0, done.output
    names: dict[str, Any] = {}
    exec(compile(code, "docs/export.md", "exec"), names)
    assert names["x"].shape == (1, 64) and capsys.readouterr().out.startswith("[[")
    (out,) = names["session"].run(None, {names["spec"]["name"]: names["x"]})
    assert out.shape == (1, 10) and abs(float(out.sum()) - 1.0) < 1e-5  # probabilities


@pytest.mark.backend
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_exports_or_says_it_needs_tensorflow(
    saved: str, tmp_path: Path, fmt: str
) -> None:
    sweep = automl.load("s", saved)
    out = tmp_path / OUT[fmt]
    done = _export(sweep, out)
    if backend() == "torch" and fmt in ("saved_model", "litert"):
        assert done.exit_code == 2
        assert done.output.strip() == (
            f"error: format {fmt} cannot be exported with the Keras backend torch (it needs the "
            "TensorFlow backend: KERAS_BACKEND=tensorflow); formats that work on torch: "
            "keras, onnx"
        )
        assert not out.exists()
        return
    assert done.exit_code == 0, done.output
    x = np.random.default_rng(0).random((4, 64)).astype("float32")
    expected = sweep.best_model().predict(x, verbose=0)
    assert np.max(np.abs(predict(fmt, out, x) - expected)) <= 1e-4
    card = json.loads((tmp_path / SIDECAR[fmt]).read_text(encoding="utf-8"))
    assert card["keras_backend"] == backend() and card["inputs"][0]["shape"] == [None, 64]
