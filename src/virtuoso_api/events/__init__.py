"""Events: the vocabulary (types and their data schemas), the CloudEvents envelope, and publishing.

Every domain flow publishes through :meth:`EventPublisher.publish`; consumers (webhooks, the live
stream, the facade's handlers) read the bus through :class:`Consumer`.
"""

from virtuoso_api.events.consumer import Consumer
from virtuoso_api.events.envelope import Event
from virtuoso_api.events.publisher import SYSTEM_OWNER, EventPublisher, event_id_for
from virtuoso_api.events.types import SCHEMAS, EventData, EventType, describe_types, schema_uri

__all__ = [
    "SCHEMAS",
    "SYSTEM_OWNER",
    "Consumer",
    "Event",
    "EventData",
    "EventPublisher",
    "EventType",
    "describe_types",
    "event_id_for",
    "schema_uri",
]
