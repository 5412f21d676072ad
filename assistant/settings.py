"""One typed settings object, read from the environment and an optional .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of a deployment; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    backoffice_home: Path = Field(Path(".backoffice"), alias="BACKOFFICE_HOME")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    policy_file: Path | None = Field(None, alias="BACKOFFICE_POLICY_FILE")
    catalog_file: Path | None = Field(None, alias="BACKOFFICE_CATALOG_FILE")
    timezone: str = Field("UTC", alias="BACKOFFICE_TIMEZONE")
    chroma_host: str | None = Field(None, alias="CHROMA_HOST")
    chroma_port: int = Field(8000, alias="CHROMA_PORT")
    embeddings: str = Field("local", alias="BACKOFFICE_EMBEDDINGS")
    embedding_model: str | None = Field(None, alias="BACKOFFICE_EMBEDDING_MODEL")
    cache_override: Path | None = Field(None, alias="BACKOFFICE_CACHE_DIR")
    max_document_bytes: int = Field(20_000_000, alias="BACKOFFICE_MAX_DOCUMENT_BYTES")
    conversation_ttl_minutes: int = Field(30, alias="BACKOFFICE_CONVERSATION_TTL_MINUTES")
    answer_threshold: float = Field(0.40, alias="BACKOFFICE_ANSWER_THRESHOLD")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    llm_model: str | None = Field(None, alias="BACKOFFICE_LLM_MODEL")
    engine: str = Field("auto", alias="BACKOFFICE_ENGINE")
    llm_timeout_seconds: float = Field(30.0, gt=0, alias="BACKOFFICE_LLM_TIMEOUT")
    llm_max_retries: int = Field(2, ge=0, alias="BACKOFFICE_LLM_MAX_RETRIES")
    llm_turn_timeout_seconds: float = Field(45.0, gt=0, alias="BACKOFFICE_LLM_TURN_TIMEOUT")
    llm_max_model_calls: int = Field(6, ge=1, alias="BACKOFFICE_LLM_MAX_CALLS")
    llm_history_messages: int = Field(40, ge=2, alias="BACKOFFICE_LLM_HISTORY")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")

    @property
    def resolved_database_url(self) -> str:
        """Return DATABASE_URL, or the SQLite file inside BACKOFFICE_HOME."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.backoffice_home / 'backoffice.db').resolve()}"

    @property
    def cache_dir(self) -> Path:
        """Return the folder for derived data that can be rebuilt (the trained intent model)."""
        return self.cache_override or self.backoffice_home / "cache"

    @property
    def uploads_dir(self) -> Path:
        """Return the folder where receipts and uploaded files are kept."""
        return self.backoffice_home / "uploads"


def load_settings() -> Settings:
    """Read the settings from the environment."""
    return Settings()
