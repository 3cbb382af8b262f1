"""Tests of the pure diff, safety checks, renderers and saved plan."""
