"""Tests of the sandbox engine (reconciler.sandbox)."""
