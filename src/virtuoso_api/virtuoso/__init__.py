"""The outbound side: Virtuoso's REST API (client, errors, models) and the step payload contract.

http = build_virtuoso_http("https://api.virtuoso.qa/api")
client = VirtuosoClient(http, token=..., org_id=2242)
step = await client.append_step(1001, ParsedStep(action=StepAction.NAVIGATE, value="https://example.com"))
"""

from virtuoso_api.virtuoso._http import as_transport, build_virtuoso_http, virtuoso_remote
from virtuoso_api.virtuoso._transport import Answer, Transport, TransportFailed
from virtuoso_api.virtuoso.client import VirtuosoClient
from virtuoso_api.virtuoso.errors import (
    VirtuosoAuthFailed,
    VirtuosoError,
    VirtuosoNotFound,
    VirtuosoProtocolError,
    VirtuosoRejected,
    VirtuosoUnavailable,
)

__all__ = [
    "Answer",
    "Transport",
    "TransportFailed",
    "VirtuosoAuthFailed",
    "VirtuosoClient",
    "VirtuosoError",
    "VirtuosoNotFound",
    "VirtuosoProtocolError",
    "VirtuosoRejected",
    "VirtuosoUnavailable",
    "as_transport",
    "build_virtuoso_http",
    "virtuoso_remote",
]
