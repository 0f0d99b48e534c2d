"""Fusion modes: how several models' answers become one. All deterministic; the engine does I/O."""
