"""The composition root's own decisions."""

from __future__ import annotations

import stat
from pathlib import Path

from kupol.bootstrap import token_secret
from kupol.settings import DEFAULT_SECRET, load_settings


def test_dev_mode_signs_tokens_with_a_private_random_key_not_the_public_default(
    tmp_path: Path,
) -> None:
    settings = load_settings(toml_file=None, environ={}, data_dir=tmp_path)
    assert settings.mode == "dev"

    key = token_secret(settings)

    assert key != DEFAULT_SECRET.encode() and len(key) >= 48
    assert stat.S_IMODE((tmp_path / "token.key").stat().st_mode) == 0o600
    assert token_secret(settings) == key  # kept: sessions survive a restart


def test_a_configured_secret_is_used_as_given(tmp_path: Path) -> None:
    secret = "a-real-secret-for-production-use-0123456789"
    settings = load_settings(
        toml_file=None, environ={}, data_dir=tmp_path, mode="prod", security={"secret_key": secret}
    )

    assert token_secret(settings) == secret.encode()
    assert not (tmp_path / "token.key").exists()
