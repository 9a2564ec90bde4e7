"""Runbook files: a broken one is named by file, line and field, and never stops the
others; the shipped ones are whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import main
from tui.domain.mitigations import MITIGATIONS
from tui.domain.runbook import Action, Check, Link, Question, successors
from tui.store.runbook_files import load_runbook, load_runbooks, shipped_dir

GOOD = """\
id: {id}
title: A small tree
summary: Decides one thing.
start: first
steps:
  - id: first
    kind: question
    text: Is it hot?
    evidence: gpu_util_max > 0.90
    yes: cool
    no: look
  - id: cool
    kind: action
    text: Cool it.
    actions: [scale-up]
  - id: look
    kind: check
    text: Look at it.
    run:
      - lang: promql
        text: up{{model="{{{{model}}}}"}}
    next: done
  - id: done
    kind: note
    text: Nothing more to do.
"""


def write(folder: Path, rid: str, text: str | None = None) -> Path:
    path = folder / f"{rid}.yaml"
    path.write_text(text if text is not None else GOOD.format(id=rid))
    return path


def broken(tmp_path: Path, old: str, new: str) -> str:
    """The error loading GOOD with ``old`` replaced by ``new``."""
    text = GOOD.format(id="tree")
    assert old in text, old
    path = write(tmp_path, "tree", text.replace(old, new, 1))
    with pytest.raises(ValueError) as info:
        load_runbook(path)
    return str(info.value)


def test_the_good_tree_loads(tmp_path: Path) -> None:
    book = load_runbook(write(tmp_path, "tree"))
    assert [s.id for s in book.steps] == ["first", "cool", "look", "done"]
    first = book.step("first")
    assert isinstance(first, Question) and first.yes == "cool" and first.no == "look"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    yes: cool", "    yes: coool", "line 10, steps[0].yes: there is no step 'coool'"),
        ("start: first", "start: frist", "line 4, start: there is no step 'frist'"),
        ("    next: done", "    next: look",
         "line 22, steps[2].next: a step cannot lead to itself"),
        ("actions: [scale-up]", "actions: [scale-upp]",
         "line 15, steps[1].actions[0]: 'scale-upp' is not a mitigation warroom knows"),
        ("evidence: gpu_util_max > 0.90", "evidence: gpu_util > 0.90",
         "line 9, steps[0].evidence: 'gpu_util' is not a signal warroom knows; did you mean"),
        ("evidence: gpu_util_max > 0.90", "evidence: open('/etc/passwd')",
         "line 9, steps[0].evidence: \"open('/etc/passwd')\": Call is not allowed"),
        ("{{model}}", "{{modle}}", "line 21, steps[2].run[0].text: {{modle}} is not a "
         "placeholder warroom fills"),
        ("    kind: note", "    kind: notes",
         "line 24, steps[3].kind: Input tag 'notes' found using 'kind' does not match"),
        ("    text: Cool it.\n", "", "line 12, steps[1].text: Field required"),
        ("    text: Cool it.", "    text: Cool it.\n    colour: blue",
         "line 15, steps[1].colour: Extra inputs are not permitted"),
        ("id: tree", "id: other", "line 1, id: id 'other' must match the file name 'tree'"),
        ("  - id: cool", "  - id: first", "line 12, steps[1].id: step id 'first' is used twice"),
        ("    yes: cool", "    yes: look", "line 12, steps[1].id: step 'cool' cannot be reached"),
        ("    kind: action\n    text: Cool it.\n    actions: [scale-up]",
         "    kind: note\n    text: Cool it.\n    next: first",
         "line 6, steps[0].id: the steps loop: first -> cool -> first"),
        ("steps:", "steps: [", "line 6: is not valid YAML"),
    ],
)  # fmt: skip
def test_a_broken_runbook_is_named_by_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    message = broken(tmp_path, old, new)
    assert message.startswith(str(tmp_path / "tree.yaml")), message
    assert expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: must hold one mapping"),
        ("- a\n- b\n", "line 1: must hold one mapping"),
        ("\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_files_that_are_not_runbooks_at_all(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "tree.yaml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match=expected):
        load_runbook(path)


def test_yes_and_no_stay_keys_not_booleans(tmp_path: Path) -> None:
    """YAML 1.1 would read ``yes:`` as True; the loader keeps YAML 1.2's two booleans."""
    book = load_runbook(write(tmp_path, "tree", GOOD.format(id="tree").replace("Cool it.", "no")))
    assert book.step("cool").text == "no"


def test_one_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    write(tmp_path, "beta", GOOD.format(id="beta").replace("yes: cool", "yes: nowhere"))
    write(tmp_path, "gamma")
    books = load_runbooks([tmp_path])
    assert sorted(books.books) == ["alpha", "gamma"]
    assert len(books.errors) == 1
    assert "beta.yaml line 10, steps[0].yes: there is no step 'nowhere'" in str(books.errors[0])


def _linking(rid: str, target: str) -> str:
    return GOOD.format(id=rid).replace(
        "    kind: note\n    text: Nothing more to do.",
        f"    kind: link\n    text: Go on.\n    runbook: {target}",
    )


def test_links_must_lead_to_a_runbook_that_loaded(tmp_path: Path) -> None:
    write(tmp_path, "alpha", _linking("alpha", "beta"))
    write(tmp_path, "beta", "id: beta\n")  # broken: so alpha's link leads nowhere
    write(tmp_path, "gamma", _linking("gamma", "nothing"))
    books = load_runbooks([tmp_path])
    assert books.books == {}
    messages = " | ".join(str(e) for e in books.errors)
    assert "beta.yaml line 1, title: Field required" in messages
    assert "alpha.yaml line 26, steps[3].runbook: there is no runbook 'beta'" in messages
    assert "gamma.yaml line 26, steps[3].runbook: there is no runbook 'nothing'" in messages


def test_runbooks_may_not_link_in_a_loop(tmp_path: Path) -> None:
    write(tmp_path, "alpha", _linking("alpha", "beta"))
    write(tmp_path, "beta", _linking("beta", "alpha"))
    write(tmp_path, "gamma", _linking("gamma", "alpha"))
    books = load_runbooks([tmp_path])
    assert "runbooks link in a loop: alpha -> beta -> alpha" in str(books.errors[0])
    assert "alpha" not in books.books and "beta" not in books.books


def test_a_later_folder_replaces_a_shipped_tree_with_the_same_id(tmp_path: Path) -> None:
    write(tmp_path, "latency", GOOD.format(id="latency"))
    books = load_runbooks([shipped_dir(), tmp_path])
    assert books.books["latency"].title == "A small tree"
    assert books.files["latency"] == tmp_path / "latency.yaml"
    assert "errors-5xx" in books.books


def test_an_unreadable_folder_is_one_error(tmp_path: Path) -> None:
    books = load_runbooks([tmp_path / "absent"])
    assert books.books == {}
    assert "absent: cannot be read" in str(books.errors[0])


# -- the shipped runbooks

SHIPPED = {
    "latency", "errors-5xx", "rate-limit-429", "gpu-oom", "throughput-drop",
    "quality-regression", "cost-spike", "provider-outage", "security-incident",
    "troubleshooting", "tg-router-no-traffic", "tg-gpu-metrics-missing", "tg-saturation-ttft",
    "tg-fallback-not-triggering", "tg-backend-oom-at-start", "tg-warmup-stuck",
    "tg-dashboard-lines-missing", "tg-router-timeouts", "tg-scrape-stopped",
    "tg-slow-nothing-broken",
}  # fmt: skip


def test_every_shipped_runbook_loads_whole() -> None:
    books = load_runbooks()
    assert [str(e) for e in books.errors] == []
    assert set(books.books) == SHIPPED


@pytest.mark.parametrize("rid", sorted(SHIPPED))
def test_each_shipped_runbook_is_a_reachable_tree_with_known_ids(rid: str) -> None:
    """What the loader enforces, checked again from the outside on each tree."""
    books = load_runbooks()
    book = books.books[rid]
    ids = {s.id for s in book.steps}
    reached, todo = set(), [book.start]
    while todo:
        sid = todo.pop()
        if sid not in reached:
            reached.add(sid)
            todo += [t for _, t in successors(book.step(sid))]
    assert reached == ids
    for step in book.steps:
        if isinstance(step, Action):
            assert set(step.actions) <= set(MITIGATIONS)
        if isinstance(step, Link):
            assert step.runbook in books.books
        if isinstance(step, Check):
            assert step.run
    assert any(isinstance(s, Action) or s.kind == "note" for s in book.steps), "no leaf"


def test_each_breach_opens_a_tree() -> None:
    books = load_runbooks()
    assert books.for_symptom("p99").id == "latency"
    assert books.for_symptom("5xx").id == "errors-5xx"
    assert books.for_symptom("429").id == "rate-limit-429"


def test_runbooks_check_validates_the_shipped_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbooks", "check"]) == 0
    assert f"{len(SHIPPED)} runbooks valid, 0 broken" in capsys.readouterr().out


def test_runbooks_check_fails_on_a_broken_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "alpha")
    write(tmp_path, "beta", "id: beta\ntitle: [\n")
    assert main(["runbooks", "check", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "1 runbooks valid, 1 broken" in out.out
    assert "beta.yaml line 3: is not valid YAML" in out.err
