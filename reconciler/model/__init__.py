"""The shared vocabulary: pydantic models, what they manage, polyant.yaml, engine facts, secrets."""
