"""Rate limiting: a sliding-window limiter over a pluggable counter store."""
