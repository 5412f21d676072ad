"""Offline language understanding: intent classification and slot extraction, no LLM and no network."""
