from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from citizens import crypto, policy


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets are encrypted like other personal data; officers cannot drop their TOTP."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type == Authenticator.Type.TOTP and policy.requires_mfa(
            authenticator.user
        ):
            return False
        return super().can_delete_authenticator(authenticator)
