"""Every setting is listed in .env.example with a comment (house rule 10)."""

from __future__ import annotations

from pathlib import Path

from member360.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {line.split("=", 1)[0] for line in lines if line.startswith("M360_")}
    expected = {f"M360_{name.upper()}" for name in Settings.model_fields}
    assert listed == expected
    for index, line in enumerate(lines):
        if line.startswith("M360_"):
            assert index > 0 and lines[index - 1].startswith("#"), (
                f"{line} needs a comment above it"
            )
