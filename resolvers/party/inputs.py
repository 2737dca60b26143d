"""The party mutations' inputs."""


from __future__ import annotations

import strawberry


@strawberry.input
class CreateAdvertiserInput:
    name: str
    industry: str | None = None
    region: str | None = None


@strawberry.input
class CreateAgencyInput:
    name: str
    holding_company: str | None = None
    region: str | None = None
