"""Checking a notification channel's configuration, every problem naming its field."""

from __future__ import annotations

from typing import Any

from engine.domain.formats import ROLE
from engine.domain.notifications import LANGUAGES, ChannelKind, NotificationEvent, TlsMode
from engine.domain.problems import Problem

EMAIL_KEYS = frozenset({"host", "port", "tls", "sender", "username", "role_addresses"})
WEBHOOK_KEYS = frozenset({"url"})
MIN_WEBHOOK_SECRET = 16
MAX_ADDRESSES = 50


def check_channel(
    kind: str, settings: dict[str, Any], secret: str | None, events: list[str], language: str,
    *, secret_kept: bool = False,
) -> list[Problem]:
    """The problems of a channel's configuration (empty: it can be saved).

    `secret_kept`: a change that gives no secret keeps the stored one.
    """
    problems: list[Problem] = []
    if kind not in tuple(ChannelKind):
        return [Problem(f"kind must be one of {', '.join(ChannelKind)}", field="kind")]
    known = {str(e) for e in NotificationEvent}
    problems += [Problem(f"unknown event {e!r}; known: {', '.join(sorted(known))}",
                         field="events") for e in events if e not in known]
    if language not in LANGUAGES:
        problems.append(Problem(f"language must be one of {', '.join(LANGUAGES)}",
                                field="language"))
    allowed = EMAIL_KEYS if kind == ChannelKind.EMAIL else WEBHOOK_KEYS
    problems += [Problem(f"unknown setting for a {kind} channel", field=f"settings.{k}")
                 for k in sorted(set(settings) - allowed)]
    if kind == ChannelKind.EMAIL:
        problems += _email(settings)
    else:
        problems += _webhook(settings, secret, secret_kept)
    return problems


def _email(settings: dict[str, Any]) -> list[Problem]:
    problems = []
    host = settings.get("host")
    if not isinstance(host, str) or not host.strip() or len(host) > 255:
        problems.append(Problem("the SMTP server's host name", field="settings.host"))
    port = settings.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append(Problem("a TCP port, 1 to 65535", field="settings.port"))
    if settings.get("tls", TlsMode.STARTTLS) not in tuple(TlsMode):
        problems.append(Problem(f"one of {', '.join(TlsMode)}", field="settings.tls"))
    if not _address(settings.get("sender")):
        problems.append(Problem("the sender's e-mail address", field="settings.sender"))
    username = settings.get("username")
    if username is not None and (not isinstance(username, str) or len(username) > 200):
        problems.append(Problem("a user name of at most 200 characters",
                                field="settings.username"))
    problems += _role_addresses(settings.get("role_addresses", {}))
    return problems


def _role_addresses(value: Any) -> list[Problem]:
    field = "settings.role_addresses"
    if not isinstance(value, dict):
        return [Problem("an object: role -> list of e-mail addresses", field=field)]
    problems = []
    for role, addresses in value.items():
        if not isinstance(role, str) or not ROLE.matches(role):
            problems.append(Problem(f"invalid role {role!r}: {ROLE.hint}", field=field))
        elif (not isinstance(addresses, list) or len(addresses) > MAX_ADDRESSES
              or not all(_address(a) for a in addresses)):
            problems.append(Problem(f"1 to {MAX_ADDRESSES} e-mail addresses",
                                    field=f"{field}.{role}"))
    return problems


def _webhook(settings: dict[str, Any], secret: str | None, kept: bool) -> list[Problem]:
    problems = []
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
        problems.append(Problem("an http:// or https:// URL", field="settings.url"))
    if secret is None and not kept:
        problems.append(Problem("a webhook needs a secret to sign with", field="secret"))
    elif secret is not None and not MIN_WEBHOOK_SECRET <= len(secret) <= 500:
        problems.append(Problem(f"{MIN_WEBHOOK_SECRET} to 500 characters", field="secret"))
    return problems


def _address(value: Any) -> bool:
    return (isinstance(value, str) and 3 <= len(value) <= 254 and value.count("@") == 1
            and not any(c.isspace() or c in ",;<>" for c in value))
