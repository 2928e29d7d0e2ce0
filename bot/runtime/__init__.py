"""What a running bot keeps: its typed state and context, scheduled jobs, leadership, logs."""
