"""Hostile labels in the incident report: a model name (or log line, or typed root cause)
carrying Markdown or HTML adds words to the report, never structure; and the screenshot
beside it is redacted like the Markdown and JSON."""

from __future__ import annotations

import re
from pathlib import Path

from report_inputs import NOW_OK, OK, SLO, T0, entry, series, snapshot

from tui.domain.model import AGGREGATE
from tui.domain.report import Overrides, apply, build_report
from tui.domain.report_text import report_markdown
from tui.store.report_files import redact_svg, write_report

EVIL = "evil```\n# pwned\n[x](http://evil)<img src=x onerror=alert(1)>\x1b]0;t\x07"


def report_named(model: str, detail: str = "CUDA out of memory") -> object:
    points = {AGGREGATE: series(OK, (1.0, 0.005, 0.0)), model: series(OK, (1.0, 0.2, 0.0))}
    snap = snapshot({AGGREGATE: NOW_OK, model: NOW_OK, "b": NOW_OK})
    entries = [
        entry("gpu.oom", 5, node=f"node-{model}", gpu=0, pod=f"pod-{model}", detail=detail),
        entry("runbook.opened", 6, runbook="errors-5xx", title=f"5xx on {model}", model=model),
        entry("runbook.answer", 7, runbook="errors-5xx", text=f"Is {model} down?",
              answer="yes", by=model, evidence={"expression": f"`{model}` > 0", "values": {}}),
    ]  # fmt: skip
    return build_report(snapshot=snap, points=points, events=[], causes={}, entries=entries,
                        slo=SLO, now=T0 + 600)  # fmt: skip


def structure(markdown: str) -> list[str]:
    """The headings, and the checks that nothing else makes structure."""
    assert "\x1b" not in markdown and "\x07" not in markdown
    # Inline code spans show their content literally: nothing in them is structure.
    markdown = re.sub(r"(?<![\\`])(`+)(?!`).*?(?<!`)\1(?!`)", "`code`", markdown)
    lines = markdown.splitlines()
    assert "\x1b" not in markdown and "\x07" not in markdown
    assert not re.search(r"(?<!\\)<(img|[a-z]+[ >]|https?:)", markdown, re.I)
    assert not re.search(r"(?<!\\)\]\(", markdown)
    for line in lines:
        body = re.sub(r"^(\s*([-+*]|\d+[.)])\s+)+", "", line)  # list item content
        assert not re.match(r"\s*(`{3,}|~{3,}|>|<)", body), line
        if body is not line:
            assert not body.startswith("#"), line
    return [line for line in lines if line.startswith("#")]


def test_a_hostile_model_name_adds_words_not_structure() -> None:
    clean = report_markdown(report_named("codellama"))  # type: ignore[arg-type]
    evil = report_markdown(report_named(EVIL))  # type: ignore[arg-type]
    assert EVIL not in evil
    headings = structure(evil)
    assert [h.split(":")[0] for h in headings] == [h.split(":")[0] for h in structure(clean)]
    assert len(headings) == len(structure(clean))
    assert "pwned" in evil and "␛" in evil  # shown, inert
    assert evil.count("```") == clean.count("```") == 0 or "\\`\\`\\`" in evil
    assert all(not h.startswith("# pwned") for h in headings)


def test_typed_root_cause_and_lessons_stay_inside_their_paragraph() -> None:
    typed = "# Heading\n```\n<script>x</script> [a](http://e) ![i](http://e/i.png)"
    report = apply(report_named("m"), Overrides(root_cause=typed, lessons="1. - > x"))  # type: ignore[arg-type]
    text = report_markdown(report)
    headings = structure(text)
    assert [h for h in headings if "Heading" in h] == []
    assert "\n1. - > x" not in text and "1\\. " in text


def test_a_pipe_or_backslash_cannot_open_a_cell_or_a_link() -> None:
    text = report_markdown(report_named("m", detail="a \\| b \\[x\\](http://e)"))  # type: ignore[arg-type]
    structure(text)
    row = next(r for r in text.splitlines() if r.startswith("| ") and "a \\\\" in r)
    assert re.sub(r"\\.", "", row).count("|") == 3


def test_secrets_in_the_markdown_are_still_redacted_after_escaping(tmp_path: Path) -> None:
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    report = report_named("m", detail=f"**password**: hunter2xx `{key}`")
    written = write_report(report, tmp_path)  # type: ignore[arg-type]
    markdown = written.markdown.read_text()
    assert key not in markdown and "hunter2xx" not in markdown
    assert "[redacted" in markdown


SECRETS = (
    "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
)


def svg_of(*runs: tuple[float, float, str]) -> str:
    texts = "".join(
        f'<text class="t-r1" x="{x}" y="{y}" textLength="{12.2 * len(t)}" '
        f'clip-path="url(#t-line-0)">{t.replace(" ", "&#160;")}</text>'
        for x, y, t in runs
    )
    return f'<svg class="rich-terminal"><g>{texts}</g></svg>'


def test_the_screenshot_is_redacted(tmp_path: Path) -> None:
    key, token = SECRETS
    svg = svg_of(
        (0, 20, f"model {key} down"),
        (0, 44.4, "HF_TOKEN "),
        (12.2 * 9, 44.4, token[:10]),  # a secret drawn in two styles
        (12.2 * 19, 44.4, token[10:]),
    )
    report = report_named("m")
    written = write_report(report, tmp_path, svg=svg)  # type: ignore[arg-type]
    assert written.svg is not None
    out = written.svg.read_text()
    for secret in SECRETS:
        assert secret not in out and secret[:16] not in out
        assert secret[10:] not in out
    assert out.count("[redacted") >= 2 and "model&#160;" in out
    assert out.startswith('<svg class="rich-terminal">')


def test_a_clean_screenshot_is_written_unchanged() -> None:
    svg = svg_of((0, 20, "codellama-34b 5xx 20.1% &lt;ok&gt;"), (0, 44.4, "token usage 512"))
    assert redact_svg(svg) == svg
