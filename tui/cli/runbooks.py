"""`warroom runbooks check|list|signals`: the runbooks, validated and listed."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from tui.cli.wiring import load, runbooks_for


def command(args: argparse.Namespace) -> int:
    from tui.store.runbook_files import shipped_dir

    if args.runbooks_command == "signals":
        from tui.domain.signals import SIGNALS

        width = max(len(n) for n in SIGNALS)
        for name, sig in SIGNALS.items():
            print(f"{name:<{width}}  {sig.unit:<7}  {sig.says}")
        return 0
    if args.runbooks_command == "list":
        books = runbooks_for(load(args))
        for rid, book in books.books.items():
            opens = f" (opens on {', '.join(book.symptoms)})" if book.symptoms else ""
            print(f"{rid:<28}  {book.title}{opens}")
        for err in books.errors:
            print(f"warroom: runbook skipped: {err}", file=sys.stderr)
        return 1 if books.errors else 0
    # check
    from tui.store.runbook_files import load_runbooks

    dirs = args.dirs or [shipped_dir()]
    books = load_runbooks(dirs)
    for err in books.errors:
        print(f"warroom: {err}", file=sys.stderr)
    where = ", ".join(str(d) for d in dirs)
    print(f"{len(books.books)} runbooks valid, {len(books.errors)} broken, in {where}")
    return 1 if books.errors else 0
