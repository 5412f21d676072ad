"""backoffice-assistant: the core (settings, composition root) and the CLI and Slack edges."""
