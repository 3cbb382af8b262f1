"""GitHub: sticky pull-request comments, drift issues, reviewed checksums, Actions files."""
