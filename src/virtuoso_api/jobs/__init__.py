"""Jobs: async commands and batches (and next, suites) run by tasks on a durable queue."""
