"""`warroom triage`: the worst symptom's runbook walked with live evidence, headless."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tui.domain import json_out
from tui.errors import ConfigError

if TYPE_CHECKING:
    pass

from tui.cli.snapshot import triage_text
from tui.cli.wiring import collect_once, load, runbooks_for


def command(args: argparse.Namespace) -> int:
    from tui.domain.assessed import Assessed
    from tui.domain.model import AGGREGATE
    from tui.domain.triage import Walk, auto_walk, triage_json

    config = load(args)
    books = runbooks_for(config)
    if args.runbook is not None and args.runbook not in books.books:
        known = ", ".join(books.books) or "none loaded"
        raise ConfigError(f"There is no runbook {args.runbook!r}; known: {known}.")
    snap, events, note = collect_once(args, config)
    if note:
        print(f"warroom: {note}", file=sys.stderr)
    for err in books.errors:
        print(f"warroom: runbook skipped: {err}", file=sys.stderr)
    assessed = Assessed.build(snap, config.slo, events=events, within_s=config.history_s)
    symptom = assessed.symptom
    model = args.model or (symptom.model if symptom else AGGREGATE)
    if snap.model(model) is None:
        raise ConfigError(f"There is no model {model!r} in {snap.source}.")
    book = books.books.get(args.runbook) if args.runbook else None
    if book is None and symptom is not None:
        book = books.for_symptom(symptom.kind)
    facts = assessed.facts(model)
    walk = Walk(books, book) if book is not None else None
    if walk is not None:
        auto_walk(walk, facts)
    result = triage_json(walk, facts, symptom, books)
    if args.json:
        json_out.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(triage_text(result))
    return 0
