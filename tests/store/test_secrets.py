"""A password in a storage URL never reaches the report page nor the stored study."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest

import automl
from automl.store.storage import open_storage
from tests.helpers import tiny_spec, write_yaml

pytestmark = pytest.mark.slow

ROLE, SECRET = "automl_secret_role", "s3cr@t-Pw"


def _role_url(admin_url: str) -> str:
    """A role with a password, reached with it in the URL (quoted, as users write it)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        found = db.execute(
            sqlalchemy.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}
        )
        if not found.first():
            db.execute(sqlalchemy.text(f"CREATE ROLE {ROLE} LOGIN SUPERUSER PASSWORD '{SECRET}'"))
    engine.dispose()
    host = admin_url.split("@", 1)[1]
    return f"postgresql://{ROLE}:{SECRET.replace('@', '%40')}@{host}"


def _everything_stored(url: str, name: str) -> list[Any]:
    opened = open_storage(url)
    study_id = opened.get_study_id_from_name(name)
    found: list[Any] = [
        opened.get_study_user_attrs(study_id),
        opened.get_study_system_attrs(study_id),
    ]
    for t in opened.get_all_trials(study_id):
        found += [t.user_attrs, t.system_attrs, t.params]
    return found


def test_a_storage_password_never_reaches_the_report_or_the_study(
    tmp_path: Path, postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _role_url(postgres)
    name = f"secret-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(tmp_path / "models"))
    raw = tiny_spec(ensemble=0)
    raw["training"] = {"max_epochs": 1, "batch_size": 64}
    space = write_yaml(tmp_path / "s.yaml", raw)
    try:
        sweep = automl.tune(space, study=name, trials=1, storage=url, in_process=True)
        page = sweep.report(tmp_path / "r.html").read_text(encoding="utf-8")
        stored = repr(_everything_stored(url, name))
        for text in (page, stored):
            for form in (SECRET, SECRET.replace("@", "%40"), "s3cr"):
                assert form not in text
        assert ROLE in page or name in page  # the page is about this study
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(url))
