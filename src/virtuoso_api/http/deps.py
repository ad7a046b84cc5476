"""Dependencies routes declare: the services built by the lifespan, reached through ``request.app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from virtuoso_api.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
