"""Which tiers review each kind of submission, and in what order. Pure rules plus one read."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from submissions.choices import TIER_ORDER, Kind, Tier

DEFAULT_ROUTES: dict[Kind, tuple[Tier, ...]] = {
    Kind.BIODATA_CORRECTION: (Tier.DESA, Tier.DUKCAPIL),
    Kind.ADDRESS_CHANGE: (Tier.DESA, Tier.KECAMATAN, Tier.DUKCAPIL),
    Kind.BIRTH: (Tier.DESA, Tier.DUKCAPIL),
    Kind.DEATH: (Tier.DESA, Tier.KECAMATAN, Tier.DUKCAPIL),
    Kind.MOVE_OUT: (Tier.DESA, Tier.KECAMATAN, Tier.DUKCAPIL),
    Kind.ARRIVAL: (Tier.DESA, Tier.KECAMATAN, Tier.DUKCAPIL),
    Kind.NON_PERMANENT: (Tier.DESA, Tier.DUKCAPIL),
    Kind.REPORT: (Tier.DESA, Tier.DUKCAPIL),
    # An agency's record (e.g. a marriage certificate) is checked by Dukcapil alone.
    Kind.INSTITUTION_UPDATE: (Tier.DUKCAPIL,),
    # A temporary residence letter (skts): the village confirms the stay, Dukcapil issues.
    Kind.SKTS: (Tier.DESA, Tier.DUKCAPIL),
}


def route_validate(tiers: object) -> None:
    """A route is a non-empty list of known tiers in their natural order, ending at Dukcapil:
    only Dukcapil writes the registry."""
    if not isinstance(tiers, list) or not tiers:
        raise ValidationError(_("A route needs at least one tier."))
    known = [str(tier) for tier in TIER_ORDER]
    if any(tier not in known for tier in tiers):
        raise ValidationError(_("Unknown tier. Use desa, kecamatan or dukcapil."))
    positions = [known.index(tier) for tier in tiers]
    if positions != sorted(set(positions)):
        raise ValidationError(_("Tiers must be listed once each, from the village up."))
    if tiers[-1] != Tier.DUKCAPIL:
        raise ValidationError(_("The last tier must be Dukcapil."))


def route_for(kind: str) -> tuple[Tier, ...]:
    """The route an administrator set for this kind, else the default."""
    from submissions.models import Route

    tiers = Route.objects.filter(kind=kind).values_list("tiers", flat=True).first()
    if tiers:
        try:
            route_validate(tiers)
            return tuple(Tier(tier) for tier in tiers)
        except ValidationError:
            pass  # an invalid route row (edited outside the admin) never blocks review
    return DEFAULT_ROUTES[Kind(kind)]


def next_tier(route: Sequence[str], current: str) -> Tier | None:
    """The tier after `current` on the route, or None at the last one."""
    tiers = list(route)
    index = tiers.index(current)
    return Tier(tiers[index + 1]) if index + 1 < len(tiers) else None
