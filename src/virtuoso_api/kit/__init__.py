"""Small shared pieces with no domain knowledge: clocks, timestamps, ids, a TTL cache."""
