"""What every command group shares: options that fall back to ``IOC_*`` variables, the settings
they make, and logging."""
from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from pydantic import ValidationError

from streams.core.errors import ConfigError
from streams.core.settings import Settings


def option(parser: argparse.ArgumentParser, flag: str, field: str, help_: str, **kw) -> None:
    env = f"IOC_{field.upper()}"
    default = Settings.model_fields[field].default
    if hasattr(default, "get_secret_value"):
        default = "(secret)"
    parser.add_argument(flag, dest=field, default=None, help=f"{help_} [env {env}, default {default}]", **kw)


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in vars(args).items() if k in Settings.model_fields and v is not None}
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # say which setting, in one line
        problems = "; ".join(  # a check across settings has no location: its message names them
            (f"IOC_{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "") + e["msg"]
            for e in exc.errors()[:3]
        )
        raise ConfigError(f"bad settings: {problems}") from None


def with_settings(fn: Callable, logs: bool = False) -> Callable[[argparse.Namespace], int]:
    """Adapt ``fn(args, settings)`` to a subcommand: settings from options and IOC_* variables."""

    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        if logs:
            setup_logging(settings)
        return fn(args, settings)

    return run


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
