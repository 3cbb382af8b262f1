"""The executor: runs a plan's typed operations as engine calls (one module per object family)."""
