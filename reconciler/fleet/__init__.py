"""Fleets of engines: environment comparison, shards, and Polyant bundles in and out."""
