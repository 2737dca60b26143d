"""Which document a GraphQL request runs: its `query`, an APQ hash, or a trusted document's id.

Apollo's automatic persisted queries: `extensions.persistedQuery = {"version": 1, "sha256Hash": h}`
without `query` runs the document registered under `h` (PERSISTED_QUERY_NOT_FOUND when there is none,
and Apollo's clients send the query again with the hash); with `query`, `h` must be the query's SHA-256
and the query is registered once it has run. Trusted documents (GraphQL over HTTP, Appendix A):
`documentId: "sha256:<hex>"` names an operation of the manifest (an APQ hash may name one too). With
DEAL_DESK_TRUSTED_DOCUMENTS_ONLY, any other document is PERSISTED_QUERY_NOT_IN_LIST, except for callers
holding an ad-hoc role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from strawberry.http import GraphQLRequestData

from auth.principal import Principal
from gateway.core.errors import BadRequest, PersistedQueryNotFound, PersistedQueryNotInList
from gateway.core.settings import Settings
from gateway.http.trusted_documents import sha256_hex
from gateway.store import persisted_queries as store
from gateway.store.database import Database

log = logging.getLogger("deal_desk.documents")

SHA256 = re.compile(r"[0-9a-f]{64}")
DOCUMENT_ID = re.compile(r"sha256:([0-9a-f]{64})")
# Documents this process has run by hash, kept in memory (a hash names one document, forever): at most
# this many characters of them, the least recently used dropped first.
KNOWN_MAX_CHARS = 8_000_000


@dataclasses.dataclass(frozen=True)
class Resolved:
    """The request with its document, and the APQ hash to register it under once it has run."""

    data: GraphQLRequestData
    register: str | None = None


class Documents:
    """Resolves the document of each request from the trusted manifest and the store's persisted queries."""

    def __init__(self, db: Database, settings: Settings, trusted: Mapping[str, str]) -> None:
        self.db, self.settings, self.trusted = db, settings, trusted
        self.known: OrderedDict[str, str] = OrderedDict()
        self.known_chars = 0

    async def resolve(self, request: Request, data: GraphQLRequestData, principal: Principal) -> Resolved:
        """The document `data` runs; BadRequest, PersistedQueryNotFound or PersistedQueryNotInList if none."""
        hashed = persisted_hash(data.extensions)
        if data.query is None:
            document_id = await document_id_of(request)
            if document_id is not None:
                return Resolved(dataclasses.replace(data, query=self._trusted(document_id)))
            if hashed is not None:
                return Resolved(dataclasses.replace(data, query=await self._persisted(hashed, principal)))
            return Resolved(data)  # no document at all: Strawberry refuses it
        if hashed is not None and sha256_hex(data.query) != hashed:
            raise BadRequest("extensions.persistedQuery.sha256Hash is not the SHA-256 of the query")
        if self.settings.trusted_documents_only and (hashed or sha256_hex(data.query)) not in self.trusted:
            self._check_adhoc(principal)  # a free-form document: the full text of a trusted one may run
        return Resolved(data, hashed if hashed is not None and hashed not in self.trusted else None)

    async def register(self, sha256: str, document: str) -> None:
        """Keep `document` under `sha256` for every worker and replica (a full store keeps nothing more)."""
        now = dt.datetime.now(dt.UTC)
        try:
            stored = await self.db.write(store.register, sha256=sha256, document=document, now=now,
                                         ttl=dt.timedelta(seconds=self.settings.apq_ttl_s),
                                         max_entries=self.settings.apq_max_entries)
        except Exception as error:  # the request has run: a lost registration only costs a resend
            log.warning("persisted query not registered: %s", type(error).__name__)
            return
        if stored:
            self._remember(sha256, document)
        else:
            log.warning("persisted query not registered: the store holds DEAL_DESK_APQ_MAX_ENTRIES queries")

    def _trusted(self, document_id: str) -> str:
        found = DOCUMENT_ID.fullmatch(document_id)
        if found is None:
            raise BadRequest('documentId must be "sha256:" and the 64 hex digits of the document\'s SHA-256')
        if found.group(1) not in self.trusted:
            raise PersistedQueryNotFound()
        return self.trusted[found.group(1)]

    async def _persisted(self, sha256: str, principal: Principal) -> str:
        if sha256 in self.trusted:
            return self.trusted[sha256]
        self._check_adhoc(principal)  # a registered query is not a trusted one
        document = self.known.get(sha256)
        if document is None:
            document = await self.db.read(store.find, sha256=sha256, now=dt.datetime.now(dt.UTC))
            if document is None:
                raise PersistedQueryNotFound()
        self._remember(sha256, document)
        return document

    def _check_adhoc(self, principal: Principal) -> None:
        if self.settings.trusted_documents_only and not principal.has_any(*self.settings.adhoc_roles):
            raise PersistedQueryNotInList()

    def _remember(self, sha256: str, document: str) -> None:
        if sha256 not in self.known:
            self.known[sha256] = document
            self.known_chars += len(document)
        self.known.move_to_end(sha256)
        while self.known_chars > KNOWN_MAX_CHARS:
            self.known_chars -= len(self.known.popitem(last=False)[1])


def persisted_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The APQ hash of a request's extensions (None without one); BadRequest when it is malformed."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise BadRequest("extensions.persistedQuery must be {version: 1, sha256Hash}")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise BadRequest("extensions.persistedQuery.sha256Hash must be 64 lower-case hex digits")
    return sha256


async def document_id_of(request: Request) -> str | None:
    """The request's `documentId` (GraphQL over HTTP, Appendix A): a query parameter, or the JSON body's."""
    if request.method == "GET":
        found: Any = request.query_params.get("documentId")
    else:
        body = json.loads(await request.body())  # parsed already (and valid): Starlette keeps the bytes
        found = body.get("documentId") if isinstance(body, dict) else None
    if found is not None and not isinstance(found, str):
        raise BadRequest("documentId must be a string")
    return found
