"""Evaluation helpers: the scripted OpenAI-compatible server and the scenario suite."""
