"""What every ATS adapter offers the sync service: webhook verification and normalisation (pure), the
reading of a polled application (pure), and a client for its API (reconciliation, the hire's source
document, write-back). One adapter per vendor, found through ``registry``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ..domain.model import Application, Candidate, Job, NormalisedEvent, Stage
from ..domain.normalise import DEFAULT_POLICY, InterviewStagePolicy
from ..domain.signatures import VerifiedWebhook
from .adapter import VendorAdapter

if TYPE_CHECKING:
    import httpx

    from ..domain.credentials import Credentials
    from ..store.connections import Connection

# Given the access token that was refused, returns one that works (refreshed and stored, or already
# refreshed by someone else).
Renew = Callable[[str], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Polled:
    """One application as the vendor's API lists it, in the common model (reconciliation)."""

    application: Application
    candidate: Candidate | None
    jobs: tuple[Job, ...]
    stage: Stage | None


# write_back kind: erase (anonymise) the candidate `payload["candidate_id"]` in the ATS (GDPR Art. 19);
# an ATS whose API has no way to answers Skipped with the reason.
ERASE_WRITE = "anonymize"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A write-back the connection is not set up for: recorded as skipped, never retried."""

    reason: str


class Page(Protocol):
    @property
    def items(self) -> list[dict[str, Any]]: ...

    @property
    def next_cursor(self) -> str | None:
        """Persist this and pass it back to resume; None on the last page."""
        ...


@runtime_checkable
class AtsClient(Protocol):
    """One connection's API client."""

    async def changed_since(self, since: datetime | None, cursor: str | None) -> Page:
        """A page of applications changed since ``since`` (all when None), resuming at ``cursor``."""
        ...

    async def fetch_application(self, application_id: str) -> dict[str, Any]:
        """The application as the API returns it (the source document of a hire webhook with ids only)."""
        ...

    async def write_back(self, kind: str, key: str, payload: Mapping[str, Any]) -> dict[str, Any] | Skipped:
        """Write ``payload`` once (``key`` is the idempotency key); returns what was written."""
        ...


@runtime_checkable
class AtsAdapter(VendorAdapter, Protocol):
    @property
    def kind(self) -> Literal["ats"]: ...

    @property
    def signing_credential(self) -> str:
        """The credential field that signs webhooks."""

    @property
    def scorecard_writeback(self) -> str:
        """The write-back kind a scorecard summary becomes."""

    @property
    def interview_status_writeback(self) -> str | None:
        """The write-back kind of an interview's status; None: nowhere."""

    @property
    def renews_tokens(self) -> bool:
        """The API hands out short-lived access tokens renewed from a stored refresh token."""

    def verify(
        self, secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime, max_age: timedelta
    ) -> VerifiedWebhook:
        """Verify a delivery on its raw bytes (never re-serialised); raises ``signatures.SignatureError``."""
        ...

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        """A stable replay-dedupe key: the vendor's delivery id where one exists, else the body's hash."""
        ...

    def normalise(
        self, parsed: Any, *, event_id: str | None = None, policy: InterviewStagePolicy = DEFAULT_POLICY
    ) -> list[NormalisedEvent]:
        """One parsed webhook body as common-model events; ``event_id`` is the delivery id the inbox deduped
        on (derived from the body without it). Raises ``MalformedPayload``."""
        ...

    @property
    def fetches_on_webhook(self) -> bool:
        """A webhook carries ids only: ``enrich`` completes its events from the API before they apply."""

    async def enrich(
        self, client: Any, events: Sequence[NormalisedEvent], policy: InterviewStagePolicy = DEFAULT_POLICY
    ) -> list[NormalisedEvent]:
        """``events`` completed from ``client`` (an ``AtsClient`` of this adapter): the job, the stage's
        name, the candidate. Vendor errors propagate (``vendor_http``); nothing is applied meanwhile."""
        ...

    def hire_source(self, parsed: Mapping[str, Any]) -> Any:
        """The part of a hire webhook the field mapping reads (``ApplicationHired.source_json``)."""
        ...

    def hire_needs_fetch(self, source: Mapping[str, Any]) -> bool:
        """True when the hire webhook carried ids only and the source document is fetched from the API."""
        ...

    def polled(self, item: Mapping[str, Any], policy: InterviewStagePolicy) -> Polled:
        """One item of ``AtsClient.changed_since`` in the common model."""
        ...

    def has_api_access(self, creds: Credentials) -> bool:
        """The credentials allow API calls (webhook-only connections are not polled)."""
        ...

    def client(
        self, http: httpx.AsyncClient, c: Connection, creds: Credentials, renew: Renew | None = None
    ) -> AtsClient: ...

    async def renew_token(
        self, http: httpx.AsyncClient, c: Connection, creds: Credentials, refused: str
    ) -> tuple[str, dict[str, str] | None]:
        """(a working access token, the credential fields to store — None when ``creds`` already hold a
        token other than ``refused``). Only when ``renews_tokens``."""
        ...
