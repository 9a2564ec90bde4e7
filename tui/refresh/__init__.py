"""The snapshot layer: one refresh from the sources, and what the screen shows now."""
