"""The shared vocabulary: pydantic models of instances, skills, polyant.yaml, and engine facts."""
