from django.core.management.base import BaseCommand, CommandError, CommandParser

from citizens import invitations
from citizens.models import User


class Command(BaseCommand):
    help = (
        "E-mail a new invitation to an account (own password and TOTP) and print its link: "
        "for the first system administrator, after createsuperuser. Ends the account's "
        "password, authenticators and earlier invitations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--base-url",
            required=True,
            help="The portal's public address, e.g. https://kependudukan.example.go.id",
        )

    def handle(self, *args: object, email: str, base_url: str, **options: object) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with the address {email}.")
        url = invitations.invitation_issue(actor=None, user=user, base_url=base_url)
        self.stdout.write(url)
