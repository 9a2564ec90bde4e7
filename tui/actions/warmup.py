"""Smoke check and warm-up of a real canary over HTTP, straight to its Service (not
through the route), so neither is ever counted as real traffic.

The smoke check is one GET that must answer 2xx; warm-up is a small batch of the
request the operator configured (a short completion, typically), sent at each poll
while the warm-up lasts: enough to load weights and fill caches, not to load-test.
"""

from __future__ import annotations

import httpx

WARM_BATCH = 4


class HttpWarmup:
    def __init__(
        self,
        smoke_url: str | None,
        warmup_url: str | None,
        warmup_body: dict[str, object] | None = None,
        *,
        timeout_s: float = 30.0,
    ) -> None:
        self.smoke_url = smoke_url
        self.warmup_url = warmup_url
        self.warmup_body = warmup_body or {}
        self._timeout_s = timeout_s

    async def smoke(self) -> str | None:
        if self.smoke_url is None:
            return None
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(self.smoke_url)
        except httpx.HTTPError as exc:
            return f"{self.smoke_url} could not be reached ({type(exc).__name__}: {exc})"
        if not response.is_success:
            return f"{self.smoke_url} answered {response.status_code}"
        return None

    async def warm(self) -> None:
        if self.warmup_url is None:
            return
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            for _ in range(WARM_BATCH):
                try:
                    await client.post(self.warmup_url, json=self.warmup_body)
                except httpx.HTTPError:
                    return  # a cold canary failing warm-up shows in the smoke and the gates
