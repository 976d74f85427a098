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


def test_each_nats_consumer_task_gets_a_pools_worth_of_database_connections(
    tmp_path: Path, postgres_database: str
) -> None:
    from sqlalchemy.pool import QueuePool

    from kupol.bootstrap import build_container
    from tests.conftest import TEST_SECRET

    url = postgres_database
    sizes = {}
    for bus, tasks in (("memory", 3), ("nats", 1), ("nats", 3)):
        settings = load_settings(
            toml_file=None,
            environ={},
            mode="test",
            data_dir=tmp_path / f"{bus}{tasks}",
            database={"url": url, "pool_size": 4},
            security={"secret_key": TEST_SECRET},
            vision={"enabled": False},
            bus={"type": bus, "consumer_tasks": tasks},
        )
        container = build_container(settings)  # connects to nothing until started
        pool = container.db.engine.pool
        assert isinstance(pool, QueuePool)
        sizes[bus, tasks] = pool.size()
        container.db.dispose()
    # The in-process bus has no consumer tasks.
    assert sizes == {("memory", 3): 4, ("nats", 1): 4, ("nats", 3): 12}
