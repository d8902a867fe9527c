"""Settings from the environment, `.env` and CLI flags, validated once with one-line messages."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from waha_mcp.servers import (
    SINGLE,
    SandboxEntry,
    ServersError,
    WAHAServer,
    load_file,
    parse_inline,
    parse_sandbox_servers,
)

# A session's name, as WAHA takes it: the one rule for every argument and setting naming a session
# (waha_mcp.sessions.validate_session_name, tools.schema.Session and SessionName).
SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SESSION_NAME_RULE = "use 1-64 letters, digits, '_' or '-'"
# A bearer token shorter than this is refused: guessable, or a placeholder left in a config file.
MIN_AUTH_TOKEN = 16
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MIN_WEBHOOK_SECRET = 20
MIN_STATE_KEY = 32  # the SDK's AES-GCM codec stretches any secret of at least 32 bytes
WEBHOOK_SECRET_RE = re.compile(rf"^[A-Za-z0-9_-]{{{MIN_WEBHOOK_SECRET},128}}$")


class ConfigError(Exception):
    """Invalid configuration: the message is one line meant for stderr."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    waha_base_url: str | None = Field(default=None, alias="WAHA_BASE_URL")
    # A fleet of WAHA servers (waha_mcp.servers): `name=url,...` sharing WAHA_API_KEY, or a TOML file of tables.
    waha_servers: str | None = Field(default=None, alias="WAHA_SERVERS")
    waha_servers_file: str | None = Field(default=None, alias="WAHA_SERVERS_FILE")
    waha_api_key: SecretStr | None = Field(default=None, alias="WAHA_API_KEY")
    waha_session: str | None = Field(default=None, alias="WAHA_SESSION")
    waha_timeout: float = Field(default=60.0, alias="WAHA_TIMEOUT", ge=1, le=600)
    waha_toolsets: Annotated[list[str] | None, NoDecode] = Field(default=None, alias="WAHA_TOOLSETS")
    waha_tools: Annotated[list[str] | None, NoDecode] = Field(default=None, alias="WAHA_TOOLS")
    waha_read_only: bool = Field(default=False, alias="WAHA_READ_ONLY")
    # Output schemas in tools/list: off by default, as clients that pass whole tool definitions to the
    # model would pay for them on every turn (they double tools/list); results are structured either way.
    output_schemas: bool = Field(default=False, alias="WAHA_MCP_OUTPUT_SCHEMAS")
    files_dir: str | None = Field(default=None, alias="WAHA_MCP_FILES_DIR")
    max_media_bytes: int = Field(default=16 * 1024 * 1024, alias="WAHA_MCP_MAX_MEDIA_BYTES", ge=1024)
    # Any WAHA answer (JSON, QR, screenshot, converted media) is read at most this far.
    max_response_bytes: int = Field(default=MAX_RESPONSE_BYTES, alias="WAHA_MCP_MAX_RESPONSE_BYTES", ge=64 * 1024)
    # An image or file returned inside a tool result (base64 makes it a third bigger).
    max_inline_bytes: int = Field(default=3 * 1024 * 1024, alias="WAHA_MCP_MAX_INLINE_BYTES", ge=1024)
    # Hosts WAHA may fetch from although they are private, loopback or local (see fetch_urls.py).
    allow_fetch_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="WAHA_MCP_ALLOW_FETCH_HOSTS")
    # HTTP transport
    http_host: str = Field(default="127.0.0.1", alias="WAHA_MCP_HOST")
    http_port: int = Field(default=8000, alias="WAHA_MCP_PORT", ge=0, le=65535)
    http_stateless: bool = Field(default=False, alias="WAHA_MCP_STATELESS")
    auth_token: SecretStr | None = Field(default=None, alias="WAHA_MCP_AUTH_TOKEN")
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="WAHA_MCP_ALLOWED_ORIGINS")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="WAHA_MCP_ALLOWED_HOSTS")
    # Open MCP sessions at once (the next one gets 503), and how long one may sit idle before it is closed.
    http_max_sessions: int = Field(default=100, alias="WAHA_MCP_HTTP_MAX_SESSIONS", ge=1)
    http_session_idle: float = Field(default=1800.0, alias="WAHA_MCP_HTTP_SESSION_IDLE", gt=0, le=86400)
    # Open connections (and requests in progress) at once; more get 503.
    http_max_connections: int = Field(default=200, alias="WAHA_MCP_HTTP_MAX_CONNECTIONS", ge=2)
    # Seconds a connection may take to send a complete request head, or sit idle between requests.
    http_header_timeout: float = Field(default=10.0, alias="WAHA_MCP_HTTP_HEADER_TIMEOUT", gt=0, le=300)
    # Built-in WAHA emulator instead of a real server.
    sandbox: bool = Field(default=False, alias="WAHA_MCP_SANDBOX")
    # Which WAHA the emulator plays (waha_mcp.sandbox.profiles), and how fast its waits run (1 = real time).
    sandbox_profile: Literal["current", "plus-2026.7", "core-2024.10"] = Field(
        default="current", alias="WAHA_MCP_SANDBOX_PROFILE"
    )
    sandbox_time_factor: float = Field(default=1.0, alias="WAHA_MCP_SANDBOX_TIME_FACTOR", ge=0, le=10)
    # The sandbox playing a fleet (waha_mcp.servers.parse_sandbox_servers): `current,current:50ms,core-2024.10`,
    # one emulator per entry, named a, b, c, ... (or `name=profile`); they become `servers`.
    sandbox_servers: str | None = Field(default=None, alias="WAHA_MCP_SANDBOX_SERVERS")
    log_level: str = Field(default="WARNING", alias="WAHA_MCP_LOG_LEVEL")
    # The durable store (inbox, audit log, pacing): a SQLite file, `:memory:`, a `postgresql://` DSN (the
    # `postgres` extra; for replicas), or unset for the per-user default file.
    store: str | None = Field(default=None, alias="WAHA_MCP_STORE")
    # Safety (waha_mcp.safety): the sessions and chats write tools may target, as ids or glob patterns
    # (unset: any); anti-ban pacing of sends (safe | off | key=value,... over the safe values); how many
    # sessions a bulk write may reach before it needs confirmation.
    allow_sessions: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="WAHA_MCP_ALLOW_SESSIONS")
    allow_chats: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="WAHA_MCP_ALLOW_CHATS")
    pacing: str = Field(default="safe", alias="WAHA_MCP_PACING")
    bulk_confirm_over: int = Field(default=3, alias="WAHA_MCP_BULK_CONFIRM_OVER", ge=0)
    # Events (waha_mcp.events): WAHA's WebSocket (ws), webhooks to us (webhook), or none (off).
    events: Literal["ws", "webhook", "off"] = Field(default="ws", alias="WAHA_MCP_EVENTS")
    # stdio mode: a loopback listener for WAHA's webhooks on this port (unset: none; HTTP mode uses /webhooks/waha).
    webhook_port: int | None = Field(default=None, alias="WAHA_MCP_WEBHOOK_PORT", ge=0, le=65535)
    webhook_host: str = Field(default="127.0.0.1", alias="WAHA_MCP_WEBHOOK_HOST")
    webhook_hmac_key: SecretStr | None = Field(default=None, alias="WAHA_MCP_WEBHOOK_HMAC_KEY")
    # The key sealing 2026-07-28 `requestState` (a confirmation asked in one request, answered in the next):
    # replicas share it so any of them can take the answer. Unset: a key of this process's own.
    state_key: SecretStr | None = Field(default=None, alias="WAHA_MCP_STATE_KEY")
    # A secret last segment of the webhook path (/webhooks/waha/<secret>): how a WAHA that cannot sign (Core 2024.x)
    # authenticates; waha_configure_webhooks puts it in the URL it gives WAHA. Never logged or shown.
    webhook_secret: SecretStr | None = Field(default=None, alias="WAHA_MCP_WEBHOOK_SECRET")
    # The public URL WAHA should POST to (waha_configure_webhooks), e.g. https://mcp.example.com/webhooks/waha.
    webhook_url: str | None = Field(default=None, alias="WAHA_MCP_WEBHOOK_URL")
    # Sessions (or `all`) whose config gets this server's webhook at start, as waha_configure_webhooks would.
    webhook_sessions: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="WAHA_MCP_WEBHOOK_SESSIONS")
    webhook_max_bytes: int = Field(default=4 * 1024 * 1024, alias="WAHA_MCP_WEBHOOK_MAX_BYTES", ge=1024)
    events_max_age_days: float = Field(default=30.0, alias="WAHA_MCP_EVENTS_MAX_AGE_DAYS", gt=0)
    events_max_count: int = Field(default=200_000, alias="WAHA_MCP_EVENTS_MAX_COUNT", ge=100)
    # Voice notes as text (waha_mcp.transcribe): off; openai (an OpenAI-compatible /v1/audio/transcriptions
    # endpoint at WAHA_MCP_TRANSCRIBE_URL, which receives the audio); local (faster-whisper in this process).
    transcribe: Literal["off", "openai", "local"] = Field(default="off", alias="WAHA_MCP_TRANSCRIBE")
    transcribe_url: str | None = Field(default=None, alias="WAHA_MCP_TRANSCRIBE_URL")
    transcribe_api_key: SecretStr | None = Field(default=None, alias="WAHA_MCP_TRANSCRIBE_API_KEY")
    transcribe_model: str | None = Field(default=None, alias="WAHA_MCP_TRANSCRIBE_MODEL")
    transcribe_language: str | None = Field(default=None, alias="WAHA_MCP_TRANSCRIBE_LANGUAGE")
    # Transcribe incoming voice notes as they arrive (background, bounded queue) rather than when first read.
    transcribe_incoming: bool = Field(default=False, alias="WAHA_MCP_TRANSCRIBE_INCOMING")
    transcribe_timeout: float = Field(default=120.0, alias="WAHA_MCP_TRANSCRIBE_TIMEOUT", ge=1, le=3600)
    # Longer or bigger audio is refused before it is sent or decoded (25 MB: OpenAI's own upload limit).
    transcribe_max_seconds: float = Field(default=900.0, alias="WAHA_MCP_TRANSCRIBE_MAX_SECONDS", gt=0)
    transcribe_max_bytes: int = Field(default=25 * 1024 * 1024, alias="WAHA_MCP_TRANSCRIBE_MAX_BYTES", ge=1024)
    transcribe_queue: int = Field(default=100, alias="WAHA_MCP_TRANSCRIBE_QUEUE", ge=1, le=100_000)

    @field_validator(
        "waha_toolsets",
        "waha_tools",
        "allowed_origins",
        "allowed_hosts",
        "allow_fetch_hosts",
        "allow_sessions",
        "allow_chats",
        "webhook_sessions",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "waha_base_url",
        "waha_servers",
        "waha_servers_file",
        "sandbox_servers",
        "waha_session",
        "transcribe_url",
        "transcribe_model",
        "transcribe_language",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_hmac_key", "transcribe_api_key", mode="before")
    @classmethod
    def _blank_key(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(raw, str) and not raw.strip() else value

    @field_validator("state_key", mode="before")
    @classmethod
    def _check_state_key(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str) or len(raw.strip()) < MIN_STATE_KEY:
            raise ValueError(
                f"must be at least {MIN_STATE_KEY} characters (the same on every replica); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return raw.strip()

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_webhook_secret(cls, value: Any) -> Any:
        """A path segment as it is (no encoding to disagree about), long enough not to be guessed."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str) or not WEBHOOK_SECRET_RE.fullmatch(raw.strip()):
            # The value itself is never echoed: only what is wrong with it.
            raise ValueError(
                f"must be {MIN_WEBHOOK_SECRET} to 128 letters, digits, '-' or '_'; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return raw.strip()

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://mcp.example.com/webhooks/waha")
        return value.strip()

    @field_validator("transcribe_url")
    @classmethod
    def _check_transcribe_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ValueError(
                "must be the endpoint's http(s) base URL, e.g. http://localhost:8000/v1 (the key goes in "
                "WAHA_MCP_TRANSCRIBE_API_KEY, not in the URL)"
            )
        return value.rstrip("/")

    @field_validator("waha_base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as http://localhost:3000")
        return value.rstrip("/")

    @field_validator("auth_token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> Any:
        """An empty or blank token is no token (never an empty credential); a short one is an error."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ValueError("must be a string")
        raw = raw.strip()
        if not raw:
            return None
        if len(raw) < MIN_AUTH_TOKEN:
            raise ValueError(
                f"must be at least {MIN_AUTH_TOKEN} characters (it is {len(raw)}); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return raw

    @field_validator("waha_session")
    @classmethod
    def _check_session(cls, value: str | None) -> str | None:
        if value is not None and not SESSION_NAME_RE.fullmatch(value):
            raise ValueError(f"invalid session name {value[:70]!r}: {SESSION_NAME_RULE}")
        return value

    @field_validator("pacing")
    @classmethod
    def _check_pacing(cls, value: str) -> str:
        from waha_mcp.safety.pacing import parse_pacing  # the format lives with the pacer

        parse_pacing(value)
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    _servers: tuple[WAHAServer, ...] = PrivateAttr(default=())
    _sandbox_fleet: tuple[SandboxEntry, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _need_base_url(self) -> Settings:
        given = [
            name
            for name, value in (
                ("WAHA_BASE_URL", self.waha_base_url),
                ("WAHA_SERVERS", self.waha_servers),
                ("WAHA_SERVERS_FILE", self.waha_servers_file),
            )
            if value
        ]
        if len(given) > 1:
            raise ValueError(f"set one of {' and '.join(given)}: WAHA_BASE_URL is the one-server shorthand")
        try:
            if self.waha_servers:
                self._servers = parse_inline(self.waha_servers, self.api_key)
            elif self.waha_servers_file:
                self._servers = load_file(self.waha_servers_file, self.api_key)
        except ServersError as exc:
            raise ValueError(f"{given[0]}: {exc}") from None
        if self.waha_base_url is not None:
            self._servers = (WAHAServer(SINGLE, self.waha_base_url, self.api_key),)
        if self.sandbox_servers:
            self._servers = self._sandbox_servers(given)
        if not self._servers and not self.sandbox:
            raise ValueError(
                "WAHA_BASE_URL is required (e.g. http://localhost:3000), or WAHA_SERVERS for several; "
                "or pass --sandbox to try the emulator"
            )
        return self

    def _sandbox_servers(self, given: list[str]) -> tuple[WAHAServer, ...]:
        """The emulated fleet as the servers: in sandbox mode no configured WAHA is reached (WAHA_BASE_URL, which
        the CLI may fill in for commands that need none, is set aside like the one-server sandbox does)."""
        if not self.sandbox:
            raise ValueError(
                "WAHA_MCP_SANDBOX_SERVERS: only with --sandbox (the emulator); real servers go in WAHA_SERVERS"
            )
        real = [name for name in given if name != "WAHA_BASE_URL"]
        if real:
            raise ValueError(f"set one of {real[0]} and WAHA_MCP_SANDBOX_SERVERS: the sandbox reaches no real WAHA")
        try:
            self._sandbox_fleet = parse_sandbox_servers(self.sandbox_servers or "")
        except ServersError as exc:
            raise ValueError(f"WAHA_MCP_SANDBOX_SERVERS: {exc}") from None
        return tuple(WAHAServer(entry.name, entry.url, self.api_key) for entry in self._sandbox_fleet)

    @property
    def sandbox_fleet(self) -> tuple[SandboxEntry, ...]:
        """The emulators of `--sandbox-servers`, in order (empty: the one-server sandbox, or none)."""
        return self._sandbox_fleet

    @property
    def servers(self) -> tuple[WAHAServer, ...]:
        """The configured WAHA servers, in the order given; empty in sandbox mode with none named."""
        return self._servers

    @property
    def server_secrets(self) -> tuple[str, ...]:
        """Every server's API key and basic-auth password: hidden like every other secret."""
        return tuple(secret for server in self._servers for secret in server.secrets)

    @model_validator(mode="after")
    def _transcribe_complete(self) -> Settings:
        if self.transcribe == "openai" and self.transcribe_url is None:
            raise ValueError(
                "WAHA_MCP_TRANSCRIBE=openai needs WAHA_MCP_TRANSCRIBE_URL (e.g. https://api.openai.com/v1 or "
                "http://localhost:8000/v1): the audio of voice notes is sent there"
            )
        return self

    @property
    def transcribe_key(self) -> str | None:
        return self.transcribe_api_key.get_secret_value() if self.transcribe_api_key else None

    @property
    def api_key(self) -> str | None:
        return self.waha_api_key.get_secret_value() if self.waha_api_key else None

    @property
    def hmac_key(self) -> str | None:
        return self.webhook_hmac_key.get_secret_value() if self.webhook_hmac_key else None

    @property
    def request_state_key(self) -> str | None:
        return self.state_key.get_secret_value() if self.state_key else None

    @property
    def path_secret(self) -> str | None:
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None

    @property
    def waha_url_shown(self) -> str | None:
        """WAHA_BASE_URL as it may be shown: without the `user:password@` of a WAHA behind basic auth."""
        return split_credentials(self.waha_base_url)[0] if self.waha_base_url else None

    @property
    def waha_password(self) -> str | None:
        return split_credentials(self.waha_base_url)[2] if self.waha_base_url else None

    @property
    def store_password(self) -> str | None:
        """The password in a PostgreSQL store's DSN: a secret like the API key (hidden in output and logs)."""
        if not self.store or not self.store.strip().lower().startswith(("postgresql://", "postgres://")):
            return None
        from waha_mcp.store.postgres.dsn import dsn_password

        return dsn_password(self.store.strip())

    @property
    def base_url_is_loopback(self) -> bool:
        return is_loopback(urlsplit(self.waha_base_url or "").hostname or "")


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """`url` without its userinfo, and the user and password it carried (percent-decoded), if any."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return bare, unquote(parts.username or ""), unquote(parts.password) if parts.password is not None else None


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: Any) -> Settings:
    """Build settings; CLI overrides (by env-var alias) win over env and `.env`."""
    cleaned = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**cleaned)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        field = Settings.model_fields.get(loc)
        name = (field.alias if field and field.alias else loc) or "configuration"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {msg}" if loc else msg)
    return "invalid configuration: " + "; ".join(parts)
