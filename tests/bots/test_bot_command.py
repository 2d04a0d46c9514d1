"""`hub bot` refuses to start without a token, or when the web server takes the updates."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hub.cli import build_parser
from hub.commands.bot import cmd_bot
from hub.config import Settings


def test_hub_bot_is_a_command() -> None:
    args = build_parser().parse_args(["bot"])
    assert args.func is cmd_bot


@pytest.mark.parametrize(
    ("extra", "message"),
    [({}, "HUB_TELEGRAM_BOT_TOKEN"),
     ({"telegram_bot_token": "1:x", "telegram_mode": "webhook"}, "HUB_TELEGRAM_MODE")],
)
async def test_hub_bot_explains_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: dict[str, str], message: str
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40, **extra)  # type: ignore[arg-type]
    assert await cmd_bot(settings, argparse.Namespace()) == 2
    assert message in capsys.readouterr().err
