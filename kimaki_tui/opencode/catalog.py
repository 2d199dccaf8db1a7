"""Typed answers of OpenCode's catalogue routes: agents, slash commands, providers and their
models, the config fields kimaki reads, projects, the git branch and server health.

Each type's `from_json` is its one parser; missing optional fields read as defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kimaki_tui.opencode import fields as f
from kimaki_tui.opencode.fields import JSON
from kimaki_tui.opencode.schema import ModelRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """`mode` is "primary", "subagent" or "all"; `hidden` ones are OpenCode's own helpers."""

    name: str
    description: str = ""
    mode: str = ""
    native: bool = False
    hidden: bool = False

    @property
    def pickable(self) -> bool:
        """An agent people choose for a session (primary, not hidden)."""
        return self.mode in ("primary", "all") and not self.hidden

    @classmethod
    def from_json(cls, data: object) -> Agent:
        raw = f.as_json(data)
        return cls(
            name=f.text(raw, "name"),
            description=f.text(raw, "description"),
            mode=f.text(raw, "mode"),
            native=f.flag(raw, "native"),
            hidden=f.flag(raw, "hidden"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A slash command: `source` is "command", "mcp" or "skill"; `hints` name its arguments."""

    name: str
    description: str = ""
    source: str = ""
    template: str = ""
    hints: tuple[str, ...] = ()
    agent: str = ""
    model: str = ""
    subtask: bool = False

    @classmethod
    def from_json(cls, data: object) -> Command:
        raw = f.as_json(data)
        return cls(
            name=f.text(raw, "name"),
            description=f.text(raw, "description"),
            source=f.text(raw, "source"),
            template=f.text(raw, "template"),
            hints=f.strings(raw, "hints"),
            agent=f.text(raw, "agent"),
            model=f.text(raw, "model"),
            subtask=f.flag(raw, "subtask"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class McpServer:
    """An MCP server of a project: `status` is "connected", "disabled", "failed", "needs_auth" or
    "needs_client_registration"; `error` says why when it failed."""

    name: str
    status: str = ""
    error: str = ""

    @classmethod
    def from_json(cls, name: str, data: object) -> McpServer:
        raw = f.as_json(data)
        return cls(name=name, status=f.text(raw, "status"), error=f.text(raw, "error"))


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthMethod:
    """A way to log in to a provider OpenCode knows: "api" (a key) or "oauth" (its `label` says which)."""

    type: str
    label: str = ""

    @classmethod
    def from_json(cls, data: object) -> AuthMethod:
        raw = f.as_json(data)
        return cls(type=f.text(raw, "type"), label=f.text(raw, "label"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthStart:
    """Where to log in: `method` "auto" (OpenCode hears back by itself) or "code" (paste a code)."""

    url: str
    method: str = ""
    instructions: str = ""

    @classmethod
    def from_json(cls, data: object) -> OAuthStart:
        raw = f.as_json(data)
        return cls(
            url=f.text(raw, "url"), method=f.text(raw, "method"), instructions=f.text(raw, "instructions")
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderEntry:
    """A provider of `GET /provider` (every one OpenCode knows, connected or not)."""

    id: str
    name: str = ""
    connected: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderModel:
    """One model of a provider. `id` is its key in the provider's models (what "provider/model"
    names); limits are in tokens (0 when OpenCode does not know them)."""

    id: str
    name: str = ""
    context_limit: int = 0
    input_limit: int = 0
    output_limit: int = 0
    # Thinking levels (OpenCode's `variants`, e.g. low/high) a prompt may name; older OpenCode
    # and models without reasoning options have none. Disabled ones are left out.
    variants: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, model_id: str, data: object) -> ProviderModel:
        raw = f.as_json(data)
        limit = f.obj(raw, "limit")
        variants = f.obj(raw, "variants")
        return cls(
            id=model_id,
            name=f.text(raw, "name"),
            context_limit=f.integer(limit, "context"),
            input_limit=f.integer(limit, "input"),
            output_limit=f.integer(limit, "output"),
            variants=tuple(
                str(key) for key, value in variants.items() if not f.flag(f.as_json(value), "disabled")
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    """A connected provider and its models, in OpenCode's order."""

    id: str
    name: str = ""
    source: str = ""
    models: tuple[ProviderModel, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Provider:
        raw = f.as_json(data)
        models = f.obj(raw, "models")
        return cls(
            id=f.text(raw, "id"),
            name=f.text(raw, "name"),
            source=f.text(raw, "source"),
            models=tuple(ProviderModel.from_json(str(key), value) for key, value in models.items()),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderCatalog:
    """`GET /config/providers`: connected providers, and each provider's default model id."""

    providers: tuple[Provider, ...] = ()
    defaults: JSON = field(default_factory=dict)

    def provider(self, provider_id: str) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    def model(self, ref: str) -> ProviderModel | None:
        """The model a "provider/model" names, if OpenCode offers it."""
        provider_id, _, model_id = ref.partition("/")
        provider = self.provider(provider_id)
        return next((m for m in provider.models if m.id == model_id), None) if provider else None

    def default_model(self, provider_id: str) -> str | None:
        value = self.defaults.get(provider_id)
        return value if isinstance(value, str) else None

    @classmethod
    def from_json(cls, data: object) -> ProviderCatalog:
        raw = f.as_json(data)
        defaults = {str(k): str(v) for k, v in f.obj(raw, "default").items()}
        return cls(
            providers=tuple(Provider.from_json(p) for p in f.objects(raw, "providers")), defaults=defaults
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCodeConfig:
    """The few fields of the merged `GET /config` kimaki reads."""

    model: ModelRef | None = None  # "provider/model" when set and well formed
    small_model: str = ""
    share: str = ""  # "manual", "auto", "disabled" or "" (unset)
    default_agent: str = ""

    @classmethod
    def from_json(cls, data: object) -> OpenCodeConfig:
        raw = f.as_json(data)
        try:
            model = ModelRef.parse(f.text(raw, "model"))
        except ValueError:
            model = None
        return cls(
            model=model,
            small_model=f.text(raw, "small_model"),
            share=f.text(raw, "share"),
            default_agent=f.text(raw, "default_agent"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A project OpenCode knows (`worktree` "/" is its global project: no repository)."""

    id: str
    worktree: str = ""
    vcs: str = ""
    name: str = ""
    created: int = 0
    updated: int = 0

    @classmethod
    def from_json(cls, data: object) -> Project:
        raw = f.as_json(data)
        time = f.obj(raw, "time")
        return cls(
            id=f.text(raw, "id"),
            worktree=f.text(raw, "worktree"),
            vcs=f.text(raw, "vcs"),
            name=f.text(raw, "name"),
            created=f.integer(time, "created"),
            updated=f.integer(time, "updated"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VcsInfo:
    branch: str = ""
    default_branch: str = ""

    @classmethod
    def from_json(cls, data: object) -> VcsInfo:
        raw = f.as_json(data)
        return cls(branch=f.text(raw, "branch"), default_branch=f.text(raw, "default_branch"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    healthy: bool = False
    version: str = ""

    @classmethod
    def from_json(cls, data: object) -> Health:
        raw = f.as_json(data)
        return cls(healthy=raw.get("healthy") is True, version=f.text(raw, "version"))
