"""The pure diff: desired vs live → a frozen Plan of typed operations, its safety and saved form."""
