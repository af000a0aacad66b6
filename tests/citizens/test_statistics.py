"""Statistics: every published figure against a count done here, independently, over the
people this test created; suppression in analyst views and every download; jurisdiction."""

import csv
import datetime
import io
import random
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import translation

from citizens import statistics
from citizens.choices import (
    Education,
    LifeStatus,
    MaritalStatus,
    Occupation,
    Religion,
    Role,
    Sex,
    StayPurpose,
)
from citizens.models import StatCell
from citizens.services import resident_close
from tests.factories import UserFactory, family_create, non_permanent_create, resident_create

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 11, 28)


@pytest.fixture(autouse=True)
def _english():
    # Labels are compared in English; the pages default to Indonesian.
    with translation.override("en"):
        yield


def _age_group(birth: datetime.date) -> int:
    years = AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))
    return min(years // 5 * 5, 75)


@pytest.fixture
def population(desa, other_desa):
    """Sixty permanent residents in two villages with random elements, one dead person, three
    current non-permanent residents and one whose stay has ended (neither of those two
    counted). Returns what was created, as plain values."""
    rng = random.Random(7)
    people = []
    families = [family_create(desa=desa) for _ in range(6)] + [
        family_create(desa=other_desa) for _ in range(4)
    ]
    for index in range(60):
        family = families[index % len(families)]
        birth = AS_OF - datetime.timedelta(days=rng.randrange(0, 90 * 365))
        values = {
            "sex": rng.choice([Sex.MALE, Sex.FEMALE]),
            "religion": rng.choice([Religion.ISLAM, Religion.CATHOLIC, Religion.HINDU]),
            "education": rng.choice([Education.PRIMARY, Education.SENIOR_SECONDARY]),
            "occupation": rng.choice([Occupation.FARMER, Occupation.TEACHER]),
            "marital_status": rng.choice([MaritalStatus.SINGLE, MaritalStatus.MARRIED_REGISTERED]),
        }
        resident_create(family=family, birth_date=birth, **values)
        people.append({"desa": family.desa_id, "family": family.pk, "birth": birth, **values})
    dead = resident_create(family=families[0], birth_date=datetime.date(1940, 1, 1))
    resident_close(resident=dead, status=LifeStatus.DEAD, death_date=AS_OF, source="officer")
    guests = [
        non_permanent_create(desa=desa, purpose=StayPurpose.STUDY, host_institution="UNIV A"),
        non_permanent_create(
            desa=desa, purpose=StayPurpose.WORK, origin_region_code="3174", host_institution=""
        ),
        non_permanent_create(desa=other_desa, purpose=StayPurpose.STUDY, host_institution="UNIV A"),
    ]
    non_permanent_create(desa=desa, expected_end_date=datetime.date(2026, 6, 30))
    statistics.statistics_refresh(as_of=AS_OF)
    return {"people": people, "guests": guests}


def _everything(user) -> statistics.Scope:
    return statistics.scope_for(user, kecamatan_id=None, desa_id=None)


def _table(tables, name) -> dict[str, tuple]:
    table = next(table for table in tables if table.name == name)
    return {row.label: row.values for row in table.rows}


def test_pyramid_status_and_families_match_an_independent_count(population, head) -> None:
    people = population["people"]
    tables = statistics.population_tables(_everything(head))

    pyramid = _table(tables, "pyramid")
    groups = Counter((person["sex"], _age_group(person["birth"])) for person in people)
    for start in statistics.AGE_GROUPS:
        label = f"{start}+" if start == 75 else f"{start}-{start + 4}"
        guest_men = sum(
            1
            for guest in population["guests"]
            if _age_group(guest.birth_date) == start and guest.sex == Sex.MALE
        )
        assert pyramid[label] == (
            groups[(Sex.MALE, start)] + guest_men,
            groups[(Sex.FEMALE, start)],
        )

    status = _table(tables, "status")
    assert status["Permanent resident"] == (60,)
    assert status["Non-permanent resident"] == (3,)
    families = _table(tables, "families")
    assert families["Families"] == (len({person["family"] for person in people}),)
    assert families["Members"] == (60,)
    note = next(table for table in tables if table.name == "families").note
    assert f"{60 / 10:.2f}" in str(note)


def test_religion_education_occupation_and_marital_status_match_an_independent_count(
    population, head
) -> None:
    tables = statistics.biodata_tables(_everything(head))
    everyone = population["people"]
    guests = population["guests"]
    for name, element, codes in (
        ("religion", "religion", Religion),
        ("education", "education", Education),
        ("occupation", "occupation", Occupation),
        ("marital", "marital_status", MaritalStatus),
    ):
        expected = Counter(person[element] for person in everyone)
        expected.update(getattr(guest, element) for guest in guests)
        published = _table(tables, name)
        assert published == {
            str(codes(code).label): (count,) for code, count in expected.items()
        }, name


def test_non_permanent_tables_match_an_independent_count(population, head) -> None:
    tables = statistics.non_permanent_tables(_everything(head))
    assert _table(tables, "purpose") == {"Study": (2,), "Work": (1,)}
    assert _table(tables, "origin") == {
        "Daerah Istimewa Yogyakarta (34)": (2,),
        "Daerah Khusus Ibukota Jakarta (31)": (1,),
    }
    assert _table(tables, "host") == {"UNIV A": (2,), "(none)": (1,)}


def test_filter_by_village_and_kecamatan_counts_only_those_residents(
    population, head, desa, other_desa
) -> None:
    in_desa = statistics.scope_for(head, kecamatan_id=None, desa_id=desa.pk)
    status = _table(statistics.population_tables(in_desa), "status")
    expected = sum(1 for person in population["people"] if person["desa"] == desa.pk)
    assert status["Permanent resident"] == (expected,)
    assert status["Non-permanent resident"] == (2,)
    in_kecamatan = statistics.scope_for(head, kecamatan_id=other_desa.kecamatan_id, desa_id=None)
    status = _table(statistics.population_tables(in_kecamatan), "status")
    assert status["Permanent resident"] == (60 - expected,)


def test_analyst_sees_small_counts_suppressed_when_the_officer_sees_them(
    client, population, head, analyst
) -> None:
    client.force_login(analyst)
    page = client.get(reverse("statistics:non_permanent"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.text
    assert "<td>x</td>" in html  # one mark for every hidden count
    assert ">2<" not in html and ">1<" not in html  # no count under five is printed
    assert "UNIV A" in html  # the category stays, its count is hidden
    scope = _everything(analyst)
    assert all(
        value is None or value >= 5
        for table in statistics.non_permanent_tables(scope)
        for row in table.rows
        for value in row.values
    )
    client.force_login(head)
    assert ">2</td>" in client.get(reverse("statistics:non_permanent")).text


@pytest.mark.parametrize("role", ["analyst", "head"])
def test_every_download_is_suppressed_for_every_reader(client, population, request, role) -> None:
    client.force_login(request.getfixturevalue(role))
    for page, names in (
        ("statistics:population", ("pyramid", "status", "families")),
        ("statistics:biodata", ("religion", "education", "occupation", "marital")),
        ("statistics:non_permanent", ("purpose", "origin", "host")),
    ):
        for name in names:
            response = client.get(reverse(page), {"unduh": name})
            assert response.status_code == 200
            assert response["Content-Type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            for row in rows[1:]:
                for cell in row[1:]:
                    assert not (cell.isdigit() and 0 < int(cell) < 5), (page, name, row)


def test_download_neutralises_formula_like_labels(client, desa, head) -> None:
    non_permanent_create(desa=desa, host_institution='=HYPERLINK("http://x")')
    statistics.statistics_refresh(as_of=AS_OF)
    client.force_login(head)
    response = client.get(reverse("statistics:non_permanent"), {"unduh": "host"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0] == '\'=HYPERLINK("http://x")'


def test_pages_refuse_citizens_and_filters_outside_the_jurisdiction(
    client, population, citizen, operator_desa, desa, other_desa
) -> None:
    client.force_login(citizen)
    assert client.get(reverse("statistics:population")).status_code == 403
    client.force_login(operator_desa)
    assert client.get(reverse("statistics:population")).status_code == 200
    assert client.get(reverse("statistics:population"), {"desa": desa.pk}).status_code == 200
    for query in ({"desa": other_desa.pk}, {"kecamatan": other_desa.kecamatan_id}):
        assert client.get(reverse("statistics:population"), query).status_code == 404
    for query in ({"desa": "x"}, {"kecamatan": "-1"}, {"desa": 999999}, {"unduh": "nope"}):
        assert client.get(reverse("statistics:population"), query).status_code == 404


def test_operator_counts_only_their_own_village(population, operator_desa, desa) -> None:
    scope = _everything(operator_desa)
    status = _table(statistics.population_tables(scope), "status")
    expected = sum(1 for person in population["people"] if person["desa"] == desa.pk)
    assert status["Permanent resident"] == (expected,)


def test_page_reads_a_bounded_number_of_queries(
    client, population, head, django_assert_max_num_queries
) -> None:
    client.force_login(head)
    client.get(reverse("statistics:population"))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("statistics:biodata")).status_code == 200


def test_refresh_replaces_every_cell_when_run_again(population) -> None:
    before = StatCell.objects.count()
    assert statistics.statistics_refresh(as_of=AS_OF) == before
    assert StatCell.objects.count() == before


def test_analyst_role_reaches_the_pages_when_logged_in(client, population) -> None:
    analyst = UserFactory(role=Role.ANALYST)
    client.force_login(analyst)
    assert client.get(reverse("statistics:biodata")).status_code == 200
