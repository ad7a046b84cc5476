"""The live stream: a caller's events as Server-Sent Events, and the catalogue of event types."""
