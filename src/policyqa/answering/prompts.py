"""Prompts and user-facing message templates, kept as Markdown in `prompts/` and loaded by name.

A file is a set of `# section` blocks; each block is a `str.format` template. Rendering fails
loudly on a missing variable, so a renamed placeholder cannot ship silently.
"""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path

from policyqa.core.settings import PROMPTS_DIR_VARIABLE

PROMPTS_DIR = Path(__file__).resolve().parents[3] / "prompts"
_SECTION = re.compile(r"^# (\S+)\s*$", re.MULTILINE)


class PromptError(ValueError):
    pass


def prompts_dir() -> Path:
    return Path(PROMPTS_DIR_VARIABLE.raw() or PROMPTS_DIR)


def prompt_names() -> list[str]:
    return sorted(p.stem for p in prompts_dir().glob("*.md"))


@functools.cache
def _sections(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    marks = list(_SECTION.finditer(text))
    if not marks:
        raise PromptError(f"{path}: no '# section' headings")
    sections = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections[mark.group(1)] = text[mark.end() : end].strip("\n")
    return sections


def sections(name: str) -> dict[str, str]:
    path = prompts_dir() / f"{name}.md"
    if not path.exists():
        raise PromptError(f"prompt '{name}' not found in {prompts_dir()}")
    return dict(_sections(path))


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def render(name: str, section: str, **values: object) -> str:
    template = sections(name).get(section)
    if template is None:
        raise PromptError(f"prompt '{name}' has no section '{section}'")
    missing = placeholders(template) - set(values)
    if missing:
        raise PromptError(f"prompt '{name}/{section}' needs {', '.join(sorted(missing))}")
    return template.format(**values)


def message(key: str, language: str, **values: object) -> str:
    """A user-facing message from `refusal.md` in the answer's language (ko, else en)."""
    prefix = "ko" if language == "ko" else "en"
    return render("refusal", f"{prefix}-{key}", **values).strip()
