"""The key that signs code references: made private on first use, never weaker, never shared."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from automl.errors import SigningKeyError
from automl.store import signing


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "automl" / "key"
    monkeypatch.setenv(signing.ENV_KEY_FILE, str(path))
    monkeypatch.delenv(signing.ENV_SECRET, raising=False)
    return path


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(key_file: Path) -> None:
    assert not key_file.exists()
    signature = signing.sign("models.py:build", "ab" * 32)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert signing.verify("models.py:build", "ab" * 32, signature)
    assert not signing.verify("other.py:build", "ab" * 32, signature)
    assert not signing.verify("models.py:build", "cd" * 32, signature)
    assert not signing.verify("models.py:build", "ab" * 32, None)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_key_file_others_can_read_is_refused(key_file: Path) -> None:
    signing.key(create=True)
    key_file.chmod(0o644)
    with pytest.raises(SigningKeyError, match="open to other users.*chmod 600"):
        signing.sign("models.py:build", None)


def test_verifying_needs_a_key_and_never_makes_one(key_file: Path) -> None:
    with pytest.raises(SigningKeyError, match="no signing key on this machine.*AUTOML_SECRET"):
        signing.verify("models.py:build", None, "00")
    assert not key_file.exists()


def test_a_secret_from_the_environment_replaces_the_key_file(
    key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(signing.ENV_SECRET, "s" * 32)
    signature = signing.sign("pkg.models:build", None)
    assert not key_file.exists()
    assert signing.verify("pkg.models:build", None, signature)
    monkeypatch.setenv(signing.ENV_SECRET, "t" * 32)  # another machine, another secret
    assert not signing.verify("pkg.models:build", None, signature)
    monkeypatch.setenv(signing.ENV_SECRET, "short")
    with pytest.raises(SigningKeyError, match="too short"):
        signing.sign("pkg.models:build", None)
