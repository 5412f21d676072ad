"""Conversation state: what a multi-turn exchange has gathered so far, kept in the database."""
