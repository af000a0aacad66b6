"""Receivers of the registry's signals (connected in apps.py)."""

from typing import Any

from citizens.models import User


def on_account_deactivated(
    sender: object, *, user: User, actor: User | None, **kwargs: Any
) -> None:
    """A deactivated account's API keys stop at once (the key check refuses them anyway) and
    are marked suspended, audited and reported to the heads."""
    from stakeholders import services

    services.api_keys_suspend_for_account(user=user, actor=actor)
