"""Mitigations that change production: plans (pure), the Kubernetes calls, the record."""
