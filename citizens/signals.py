"""Signals the registry app sends to the apps that build on it, so it never imports them."""

from django.dispatch import Signal

# An account was deactivated (is_active set to False). Arguments: user, actor (the User who
# did it, or None). stakeholders suspends the API keys the account holds.
account_deactivated = Signal()
