"""The config tree on disk: YAML and Markdown in, positions, variables, validation, export out."""
