import json
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


def test_effective_configuration_names_each_value_and_its_source() -> None:
    from policyqa.core import tuning
    from policyqa.core.settings import effective_configuration

    env = {"POLICYQA_TOP_K": "7", "POLICYQA_AUTH": "user:secret", "GRADIO_SERVER_PORT": "8000"}
    args = build_parser().parse_args(["--min-support", "0.5", "stats", "--json"])
    settings = settings_from_args(args, env)
    config = effective_configuration(settings, args, env)
    rows = {r["name"]: r for r in config["settings"]}
    assert (rows["top_k"]["value"], rows["top_k"]["source"]) == (7, "environment")
    assert (rows["min_support"]["value"], rows["min_support"]["source"]) == (0.5, "flag")
    assert (rows["chunk_words"]["value"], rows["chunk_words"]["source"]) == (120, "default")
    assert rows["auth"]["value"] == "(set)"  # a password is never printed
    assert "secret" not in json.dumps(config)
    variables = {v["name"]: v for v in config["environment"]}
    assert variables["GRADIO_SERVER_PORT"] == {
        "name": "GRADIO_SERVER_PORT",
        "value": "8000",
        "default": "7860",
        "source": "environment",
    }
    names = {t["name"] for t in config["tuning"]}
    assert {"PERIOD_BOOST", "LEXICAL_WEIGHT", "MISSING_FACTOR"} <= names
    # Each registered constant is the module attribute of the same name, with a reason.
    for t in tuning.TUNING.values():
        assert getattr(tuning, t.name) is t.value and t.reason
