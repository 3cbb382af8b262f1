"""The pure diff: desired vs live → a Plan of typed changes, its safety, checksum and saved form."""
