"""The chat UI's callbacks (`ChatApp`)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from policyqa.app.chat import ChatApp
from policyqa.app.render import keep
from policyqa.pipeline import Pipeline


@pytest.fixture(scope="module", autouse=True)
def _temp_in_tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ChatApp (built by build_app/build_server) keeps briefings in a mkdtemp() folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("temp")))
        yield


def _failing(message: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(message)

    return fail


def test_chat_error_shows_a_message_not_the_exception(
    served: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ChatApp(served)
    monkeypatch.setattr(served.assistant, "stream", _failing("secret detail /srv/x"))
    steps = list(app.respond("포괄보조", [], [], [], "", [], ""))
    chat, history, answers, *_ = steps[-1]
    assert "Something went wrong" in chat[-1]["content"]
    assert "secret" not in json.dumps(chat)
    assert history == answers == keep()  # no turn recorded, no answer kept
    assert steps[0][4] == ""
