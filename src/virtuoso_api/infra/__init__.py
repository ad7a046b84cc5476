"""Capabilities: one folder each, holding a typed port, a local adapter and (where flagged) a GCP adapter."""
