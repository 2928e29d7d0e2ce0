"""The composition root: the PTB Application wired once (handlers, jobs, state); webhooks."""
