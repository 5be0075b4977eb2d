"""Code references: checked where they enter without importing anything, never looked up
when a spec is read back from a study's storage."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import automl
from automl.errors import SpecError
from automl.search.code_ref import check_ref
from automl.search.spec import validate_spec
from tests.helpers.sample_study import make_study


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Package ``trap_pkg`` on ``sys.path``: importing it (or ``trap_pkg.models``) leaves a
    marker file."""
    marker = tmp_path / "imported"
    pkg = tmp_path / "src" / "trap_pkg"
    pkg.mkdir(parents=True)
    touch = f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
    (pkg / "__init__.py").write_text(touch)
    (pkg / "models.py").write_text(touch + "def build_model(hp):\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield marker
    for name in ("trap_pkg", "trap_pkg.models"):
        sys.modules.pop(name, None)


def test_a_module_reference_is_found_without_importing_its_package(package: Path) -> None:
    check_ref("trap_pkg.models:build_model")
    with pytest.raises(ValueError, match="module 'trap_pkg.nothing' cannot be imported"):
        check_ref("trap_pkg.nothing:build_model")
    with pytest.raises(ValueError, match="cannot be imported"):
        check_ref("trap_pkg.models.deeper:build_model")  # models is a module, not a package
    assert not package.exists()
    assert "trap_pkg" not in sys.modules


def test_reading_a_stored_spec_back_imports_nothing_it_names(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "studies" / "journal.log")
    study = make_study(url, "s", n_trials=3)
    for ref in ("this.x:build_model", "trap_pkg.models:build_model"):
        spec = dict(study.user_attrs["spec"], search={})
        study.set_user_attr("spec", {**spec, "model": {"build": ref}})
        sweep = automl.load("s", url)
        assert sweep.spec.model.build == ref
        assert sweep.spec.model.signature is None  # read back: never sealed by a reader
        assert sweep.record().spec["model"]["build"] == ref
    assert "Zen of Python" not in capsys.readouterr().out
    assert not package.exists()


def test_a_spec_from_the_user_is_sealed_and_a_replaced_reference_resealed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "models.py"
    path.write_text("def build_model(hp):\n    return None\n")
    raw = {"data": {"source": "digits"}, "model": {"build": f"{path}:build_model"}}
    spec = validate_spec(raw)
    assert spec.model.digest and spec.model.signature
    other = tmp_path / "other.py"
    other.write_text("def build_model(hp):\n    return 1\n")
    changed = spec.replace(**{"model.build": f"{other}:build_model"})
    assert changed.model.digest != spec.model.digest
    assert changed.model.signature != spec.model.signature
    with pytest.raises(SpecError, match="'pickle:' reference is made by automl"):
        validate_spec({**raw, "model": {"build": "pickle:build-1.pkl"}})
