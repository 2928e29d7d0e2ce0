"""An in-process Bot API, so the real Application runs with no network (console, ask, tests)."""
