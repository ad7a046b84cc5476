"""Commands as callers send them (``{"command": ..., "args": [...]}``): their vocabulary and execution."""
