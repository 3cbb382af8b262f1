"""Pure renderers: a Plan (or a drift report) → text, Markdown and JSON strings."""
