"""The LLM engine: a langchain tool-calling agent over an OpenAI-compatible endpoint (the only langchain importer)."""
