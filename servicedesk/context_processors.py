from __future__ import annotations


def actor(request) -> dict:
    """Expose the actor to templates (``None``-safe: SimpleLazyObject wraps a None)."""
    current = getattr(request, "actor", None)
    if current is not None and not current:
        current = None
    return {"actor": current}
