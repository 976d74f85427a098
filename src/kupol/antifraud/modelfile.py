"""Models the project trains and ships as joblib files with a JSON card beside them.

A pickle made by another scikit-learn may load and answer wrongly, and a file changed since
its card was written is not the model the card describes: :func:`load_checked` refuses both.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from kupol.core.errors import ConfigError


def card_path(model: Path) -> Path:
    """The card beside a model file."""
    return model.with_suffix(".json")


def save_with_card(estimator: Any, path: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write ``estimator`` and its card (the scikit-learn version and SHA-256 added)."""
    import joblib
    import sklearn

    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, path, compress=3)
    full = {**card, "sklearn": sklearn.__version__}
    full["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    card_path(path).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    return full


def load_checked(path: Path, *, features: list[str] | None = None) -> tuple[Any, dict[str, Any]]:
    """The estimator and its card, checked against this installation.

    Raises:
        ConfigError: the file or card is missing, or made by another scikit-learn, for other
            features, or changed since.
    """
    import joblib
    import sklearn

    card_file = card_path(path)
    if not path.is_file() or not card_file.is_file():
        raise ConfigError(f"model {path} or its card is missing")
    card = json.loads(card_file.read_text(encoding="utf-8"))
    if card.get("sklearn") != sklearn.__version__:
        raise ConfigError(
            f"model {path.name} was made with scikit-learn {card.get('sklearn')}, "
            f"this installation has {sklearn.__version__}: retrain it"
        )
    if features is not None and card.get("features") != features:
        raise ConfigError(f"model {path.name} was made for other features: retrain it")
    if card.get("sha256") != hashlib.sha256(path.read_bytes()).hexdigest():
        raise ConfigError(f"model {path.name} does not match its card's SHA-256")
    return joblib.load(path), card
