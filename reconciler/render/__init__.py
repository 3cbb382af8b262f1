"""Pure renderers: a Plan, a drift report or a comparison → text, Markdown and JSON strings."""
