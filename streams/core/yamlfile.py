"""Reading a YAML data file, with the errors every loader wants: which file, and how to fix it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from streams.core.errors import ConfigError


def read_yaml(path: Path | str, what: str, env: str | None = None) -> Any:
    """The parsed document of ``path``; ``what`` names the file in errors (``on-call file``), ``env``
    is the setting that chooses it."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = f" (set {env})" if env else ""
        raise ConfigError(f"{what} not found: {path}{hint}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
