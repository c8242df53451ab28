from pathlib import Path

import pytest

from policyqa.app.cli import build_parser
from policyqa.core.settings import Settings, SettingsError, setting_rows, settings_from_args


def test_defaults_and_env_override() -> None:
    s = Settings.from_env({"POLICYQA_CHUNK_WORDS": "80", "POLICYQA_HOME": "/tmp/x"})
    assert s.chunk_words == 80
    assert s.home == Path("/tmp/x")
    assert Settings.from_env({}).top_k == 5


def test_cli_flag_beats_env() -> None:
    args = build_parser().parse_args(["--chunk-words", "60", "stats"])
    s = settings_from_args(args, env={"POLICYQA_CHUNK_WORDS": "80"})
    assert s.chunk_words == 60


def test_bad_number_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="POLICYQA_TOP_K"):
        Settings.from_env({"POLICYQA_TOP_K": "many"})


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for env, flag, _, _ in setting_rows():
        assert env in readme, env
        assert flag in readme, flag
