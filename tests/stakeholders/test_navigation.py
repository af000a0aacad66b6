"""An institution admin reaches their desk and uploads from the menu, not citizen links."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_menu_leads_to_the_institution_desk_when_an_institution_admin_signs_in(
    client, institution_admin
) -> None:
    client.force_login(institution_admin)
    page = client.get(reverse("home")).text
    assert reverse("stakeholders:manage_my_institution") in page
    assert reverse("stakeholders:batch_list") in page
    assert reverse("mydata:overview") not in page


def test_menu_keeps_citizen_links_when_a_citizen_signs_in(client, citizen) -> None:
    client.force_login(citizen)
    page = client.get(reverse("home")).text
    assert reverse("mydata:overview") in page
    assert reverse("stakeholders:manage_my_institution") not in page
