"""The 429 line by API key: whose key it is (the counter's tenant label), small rates
that keep their digits, and whole entries only at any width; the 429 tree's leaf names
the key it acts on (issue 22, item 12)."""

from __future__ import annotations

import re

import pytest
from demo_app import frozen_demo_app, settle

from tui.domain.model import KeyRejections
from widgets.key_rejections import KeyRejectionsLine
from widgets.runbook_view import StepCard

NOISY = "key_1a34ac"
"""The key-429 scenario's noisy key; its tenant is initech."""
ENTRY = re.compile(r"(key_[0-9a-f]{6})(?: \(([^)]+)\))? ([0-9.<]+)/s ([0-9.<]+%)")
"""One key's entry: ``key_177149 (acme-corp) 0.086/s 0.3%``."""


@pytest.mark.parametrize("size", [(200, 50), (80, 24)], ids=["200x50", "80x24"])
async def test_the_429_line_names_the_tenant_and_every_shown_key_has_its_share(
    size: tuple[int, int],
) -> None:
    app = frozen_demo_app("key-429")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        widget = app.query_one(KeyRejectionsLine)
        line = str(widget.render())
        keys = app.tracker.current.rate_limited_keys
        assert keys[0].api_key == NOISY and keys[0].tenant == "initech"
        assert f"99% from {NOISY} (initech)" in line
        assert len(line) <= widget.size.width, "nothing cut at the edge"
        # Whole entries only: each shown key with its tenant, rate and share, then how many
        # keys are not shown.
        entries = ENTRY.findall(line.split(" · ", 1)[1]) if " · key_" in line else []
        for _key, tenant, rate, share in entries:
            assert tenant and rate not in ("0", "0.0") and share.endswith("%"), line
        hidden = len(keys) - 1 - len(entries)
        assert line.endswith(f"+{hidden} more"), line
        if size[0] >= 200:
            # The second key's 0.086/s, not 0.1/s or 0.0/s.
            assert entries and entries[0][1:3] == ("acme-corp", "0.086"), line


def test_small_rates_keep_their_digits() -> None:
    from widgets.key_rejections import fmt_key_rate, fmt_share

    assert fmt_key_rate(0.043009579902766534) == "0.043"
    assert fmt_key_rate(0.0172) == "0.017"
    assert fmt_key_rate(30.81) == "31"
    assert fmt_key_rate(2.54) == "2.5"
    assert fmt_key_rate(0.0004) == "<0.001"
    assert fmt_share(0.15) == "15%"
    assert fmt_share(0.0028) == "0.3%"
    assert fmt_share(0.0004) == "<0.1%"


def spread() -> tuple[KeyRejections, ...]:
    """429s spread over four keys, the last one's series without a tenant label."""
    return (
        KeyRejections("key_177149", 3.1, 0.40, tenant="acme-corp"),
        KeyRejections("key_4c7690", 0.043, 0.15, tenant="globex"),
        KeyRejections("key_a865d8", 0.02, 0.10, tenant="umbrella"),
        KeyRejections("key_b4c6c1", 0.01, 0.05),
    )


@pytest.mark.parametrize("width", [198, 98, 78, 60, 40])
def test_spread_keys_are_whole_at_any_width(width: int) -> None:
    from widgets.key_rejections import key_line

    keys = spread()
    line = key_line(keys, width).plain
    assert len(line) <= width
    entries = ENTRY.findall(line)
    assert [e[0] for e in entries] == [k.api_key for k in keys[: len(entries)]]
    if len(entries) < len(keys):
        assert line.endswith(f"+{len(keys) - len(entries)} more") or width < 40
    if width >= 98:
        assert "key_4c7690 (globex) 0.043/s 15%" in line
    if width >= 198:
        assert "key_b4c6c1 0.01/s 5.0%" in line, "no tenant label: the key alone"


async def test_the_429_leaf_names_the_key_it_acts_on() -> None:
    app = frozen_demo_app("key-429")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ("t", "enter"):
            await pilot.press(key)
            await settle(pilot)
        assert app.walk is not None and app.walk.here.id == "single-key"
        card = app.screen.query_one(StepCard).text
        block = next(line for line in card.splitlines() if "Block or throttle" in line)
        assert f"{NOISY} (initech), 99% of the 429s at 31/s" in block
        contact = next(line for line in card.splitlines() if "Contact the tenant" in line)
        assert f"{NOISY} (initech)" in contact
