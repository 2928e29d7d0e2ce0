"""Settings from the environment or a .env file, validated once at start."""
