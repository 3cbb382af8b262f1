"""polyant-gitops: GitOps for the Polyant AI-agent engine."""

__version__ = "0.1.0"
