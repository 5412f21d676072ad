"""Prompt texts (prompts/*.md with {name} fields) and a strict renderer."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources


class PromptError(Exception):
    """A prompt is missing, or a field it names was not given (or one given is not used)."""


@cache
def load_prompt(name: str) -> str:
    """Return the text of prompts/<name>.md."""
    resource = resources.files(__name__).joinpath(f"{name}.md")
    if not resource.is_file():
        raise PromptError(f"No prompt named '{name}'.")
    return resource.read_text(encoding="utf-8")


def prompt_fields(name: str) -> set[str]:
    """Return the {field} names a prompt uses."""
    return {field for _, field, _, _ in string.Formatter().parse(load_prompt(name)) if field}


def render(prompt: str, /, **fields: object) -> str:
    """Fill a prompt's {fields}; every field must be given and every given value used, so drift fails loudly."""
    wanted = prompt_fields(prompt)
    missing, unused = wanted - fields.keys(), fields.keys() - wanted
    if missing or unused:
        raise PromptError(f"Prompt '{prompt}': missing fields {sorted(missing)}, unused fields {sorted(unused)}.")
    return load_prompt(prompt).format(**fields).strip()
