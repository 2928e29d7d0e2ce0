"""Crowd reports: /report counted once per person per bucket, within a rate limit."""
