"""The Slack adapter: a bolt App whose listeners convert payloads, call one core function and render the result."""
