"""Reading runbook files: YAML in, validated `Runbook` out, or one sentence naming the
file, the line and the field that is wrong.

A broken runbook never stops the others loading: `load_runbooks` returns what loaded
and, beside it, an error for each file that did not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tui.domain.runbook import (
    STEP_KINDS,
    Problem,
    Runbook,
    RunbookError,
    Runbooks,
    link_loop,
    problems,
)

SUFFIXES = (".yaml", ".yml")
MAX_BYTES = 256 * 1024
"""A runbook is a page of text; a file far larger is not one."""


# libyaml's parser where PyYAML was built with it: the shipped runbooks load in a
# sixteenth of the time, which is most of what the cockpit spends on them at start-up.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """YAML 1.2 booleans: only ``true`` and ``false``. YAML 1.1 (PyYAML's default) reads
    ``yes``, ``no``, ``on`` and ``off`` as booleans too, which would turn a question's
    ``yes:`` and ``no:`` keys into True and False."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def shipped_dir() -> Path:
    """The runbooks that come with warroom (the ``runbooks`` package's folder)."""
    return Path(str(resources.files("runbooks")))


def configured_runbooks(team_dirs: Sequence[Path]) -> Runbooks:
    """The shipped runbooks, then the team's folders (``runbook_dirs`` in the config)."""
    return load_runbooks([shipped_dir(), *team_dirs])


@dataclass
class _Parsed:
    path: Path
    node: yaml.Node
    book: Runbook


def load_runbooks(dirs: Sequence[Path] | None = None) -> Runbooks:
    """Every runbook in ``dirs`` (default: the shipped ones). A later folder's runbook
    replaces an earlier one with the same id, so a team can override a shipped tree."""
    out = Runbooks()
    parsed: dict[str, _Parsed] = {}
    for folder in dirs if dirs is not None else [shipped_dir()]:
        for path in _files(folder, out.errors):
            try:
                one = _parse(path)
            except RunbookError as exc:
                out.errors.append(exc)
                continue
            parsed[one.book.id] = one
    # A runbook whose links lead to one that failed fails too: drop until nothing changes.
    while True:
        books = {rid: p.book for rid, p in parsed.items()}
        broken = {}
        for rid, p in parsed.items():
            found = problems(p.book, books)
            if found:
                broken[rid] = _located(p.path, p.node, found[0])
        if not broken:
            break
        for rid, err in broken.items():
            out.errors.append(err)
            del parsed[rid]
    loop = link_loop({rid: p.book for rid, p in parsed.items()})
    if loop:
        first = parsed[loop[0]]
        out.errors.append(RunbookError(first.path, "runbooks link in a loop: " + " -> ".join(loop)))
        for rid in set(loop):
            del parsed[rid]
    out.books = {rid: p.book for rid, p in sorted(parsed.items())}
    out.files = {rid: p.path for rid, p in sorted(parsed.items())}
    return out


def load_runbook(path: Path) -> Runbook:
    """One file on its own (links to other runbooks are not checked). Raises RunbookError."""
    one = _parse(path)
    found = problems(one.book)
    if found:
        raise _located(path, one.node, found[0])
    return one.book


def _files(folder: Path, errors: list[RunbookError]) -> Iterable[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
    except OSError as exc:
        errors.append(RunbookError(folder, f"cannot be read ({exc.strerror or exc})"))
        return []


def _parse(path: Path) -> _Parsed:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RunbookError(path, f"is larger than {MAX_BYTES // 1024} KiB; not a runbook")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunbookError(path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RunbookError(path, "is not UTF-8 text") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RunbookError(
            path, f"is not valid YAML ({exc.problem or exc.context})", line
        ) from None
    except yaml.YAMLError as exc:
        raise RunbookError(path, f"is not valid YAML ({exc})") from None
    finally:
        loader.dispose()
    if node is None or not isinstance(data, dict):
        raise RunbookError(path, "must hold one mapping with id, title, start and steps", 1)
    try:
        book = Runbook.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        loc = _data_loc(err["loc"], data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "kind")  # the step is fine but for its kind: point at that
        raise RunbookError(path, message, _line(node, loc), _where(loc)) from None
    if book.id != path.stem:
        raise RunbookError(path, f"id {book.id!r} must match the file name {path.stem!r}",
                           _line(node, ("id",)), "id")  # fmt: skip
    return _Parsed(path, node, book)


def _located(path: Path, node: yaml.Node, problem: Problem) -> RunbookError:
    return RunbookError(path, problem.message, _line(node, problem.loc), _where(problem.loc))


def _data_loc(loc: Sequence[int | str], data: Any) -> tuple[int | str, ...]:
    """Pydantic's error location with the union tags (``'question'``) taken out: only the
    keys and indexes that exist in the file."""
    out: list[int | str] = []
    here = data
    for part in loc:
        in_map = isinstance(here, dict) and part in here
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_map or in_list:
            here = here[part]
            out.append(part)
        elif isinstance(here, dict) and part not in STEP_KINDS:
            # A field that is missing: keep its name for the message. (A step kind is the
            # union's tag, which pydantic puts in the location; it is not in the file.)
            out.append(part)
            break
    return tuple(out)


def _line(node: yaml.Node, loc: Sequence[int | str]) -> int:
    """The 1-based line where ``loc`` is in the file, or of its nearest parent there."""
    here = node
    for part in loc:
        if isinstance(here, yaml.MappingNode) and isinstance(part, str):
            value = next((v for k, v in here.value if getattr(k, "value", None) == part), None)
            if value is None:
                break
            here = value
        elif (
            isinstance(here, yaml.SequenceNode) and isinstance(part, int) and part < len(here.value)
        ):
            here = here.value[part]
        else:
            break
    return here.start_mark.line + 1


def _where(loc: Sequence[int | str]) -> str:
    """``steps[2].yes``"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
