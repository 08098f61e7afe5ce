"""Structured JSON logs; the correlation id rides in a contextvar from request to outbox to consumer."""
from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog
import structlog.tracebacks
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

_configured = False
# What a caller may name its correlation id: it is echoed in a response header, logged and stored with each
# outbox row (a 64-character column), so anything longer or with other characters gets a fresh id instead.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def configure_logging(service: str, level: str = "INFO", json_output: bool = True) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    # kafka-python is chatty at INFO about every reconnect; its warnings are what matter.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # Tracebacks without local variables (they can hold tokens and customer data): as data in JSON, as plain text
    # on the console (which renders exceptions itself, with Rich and locals by default; a dict would break it).
    renderers: list[structlog.typing.Processor] = [
        structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
        structlog.processors.JSONRenderer(),
    ] if json_output else [
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
    ]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def usable_correlation_id(candidate: object) -> str:
    """The caller's correlation id when it matches ^[A-Za-z0-9._:-]{1,64}$, otherwise a fresh one."""
    if isinstance(candidate, str) and _CORRELATION_ID.fullmatch(candidate):
        return candidate
    return new_correlation_id()


def bind_correlation_id(correlation_id: str | None) -> str:
    correlation_id = usable_correlation_id(correlation_id)
    bind_contextvars(correlation_id=correlation_id)
    return correlation_id


def current_correlation_id() -> str | None:
    return get_contextvars().get("correlation_id")


def unbind_request_context() -> None:
    service = get_contextvars().get("service")
    clear_contextvars()
    if service:
        bind_contextvars(service=service)
