import io

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import validate_totp_code
from allauth.mfa.utils import decrypt
from django.core.management import CommandError, call_command

from citizens import policy
from citizens.choices import FamilyRelation, Role, Sex
from citizens.demo import _generator, _villages, demo_population_seed
from citizens.models import Desa, Family, Kecamatan, NonPermanentResident, PermanentResident, User
from citizens.nik import parse_nik

pytestmark = pytest.mark.django_db


def test_load_areas_twice_gives_16_kecamatan_and_494_villages() -> None:
    call_command("load_areas", verbosity=0)
    call_command("load_areas", verbosity=0)
    assert Kecamatan.objects.count() == 16
    assert Desa.objects.count() == 494


def test_seed_demo_builds_consistent_families_and_valid_niks(settings) -> None:
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", residents=400, seed=7, stdout=out)
    assert PermanentResident.objects.count() == 400
    assert NonPermanentResident.objects.count() >= 20
    for resident in PermanentResident.objects.select_related("family__desa__kecamatan"):
        info = parse_nik(resident.nik)
        assert info.birth_date_matches(resident.birth_date)
        assert info.sex == resident.sex
        if info.nik.startswith("3306"):
            assert info.region == resident.family.desa.kecamatan.code
    families = Family.objects.all()
    assert families.count() > 80
    heads = PermanentResident.objects.filter(family_relation=FamilyRelation.HEAD)
    assert heads.count() == families.count()
    assert {Sex.MALE, Sex.FEMALE} <= set(PermanentResident.objects.values_list("sex", flat=True))
    text = out.getvalue()
    assert "purworejo-demo-2026" in text and "BENCH seed_demo_seconds" in text


def test_seed_generator_is_reproducible_for_the_same_seed() -> None:
    names = dict(Kecamatan.objects.values_list("code", "name"))

    def sample(seed: int) -> list[str]:
        gen = _generator(seed, _villages())
        return [m.nik + m.full_name for _ in range(20) for m in gen.family(names)[1]]

    assert sample(3) == sample(3)
    assert sample(3) != sample(4)


def test_seed_demo_leaves_an_existing_registry_alone(settings) -> None:
    settings.DEBUG = True
    demo_population_seed(residents=50, seed=1)
    assert demo_population_seed(residents=50, seed=1).skipped
    assert PermanentResident.objects.count() == 50


def test_seed_demo_creates_one_account_per_role_with_totp_for_officers(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", residents=30, seed=1, stdout=io.StringIO())
    call_command("seed_demo", residents=30, seed=1, stdout=io.StringIO())
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(Role.values)
    for user in User.objects.all():
        has_totp = Authenticator.objects.filter(user=user, type="totp").exists()
        assert has_totp == policy.requires_mfa(user), user.email
    # The demo citizen is linked to a family head in the demo operator's village.
    citizen = User.objects.get(role=Role.CITIZEN)
    operator = User.objects.get(role=Role.OPERATOR_DESA)
    resident = citizen.resident_link.resident
    assert resident.family.desa == operator.jurisdiction_desa
    assert resident.family_relation == FamilyRelation.HEAD


def test_seed_demo_refuses_when_debug_is_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", residents=10)


def test_demo_totp_prints_a_code_that_allauth_accepts(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", residents=10, seed=1, stdout=io.StringIO())
    user = User.objects.get(role=Role.VERIFIER)
    out = io.StringIO()
    call_command("demo_totp", user.email, stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    secret = decrypt(Authenticator.objects.get(user=user).data["secret"])
    assert validate_totp_code(secret, code)


def test_demo_totp_refuses_when_debug_is_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_totp", "verifikator@demo.purworejo.test")


def test_rotate_command_reports_rows(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", residents=20, seed=1, stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "citizens.PermanentResident: 20" in out.getvalue()
    # TOTP secrets are encrypted by the MFA adapter and still work after rotation.
    secret = Authenticator.objects.filter(type="totp").first().data["secret"]
    assert decrypt(secret)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_seed_demo_splits_work_over_processes_by_kecamatan_when_on_postgres() -> None:
    result = demo_population_seed(residents=600, seed=5, workers=2)
    assert result.residents == PermanentResident.objects.count() == 600
    assert result.families == Family.objects.count()
    # Both shards wrote rows, and every village kept its own kecamatan's NIK region.
    regions = {parse_nik(r.nik).region for r in PermanentResident.objects.all()}
    assert len({code for code in regions if code.startswith("3306")}) == 16
    assert NonPermanentResident.objects.count() >= 20
