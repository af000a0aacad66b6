"""The page around every view: the menu and footer are kept per language and role."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def _menu(client, user=None, language="en") -> str:
    client.logout()
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("home")).text
    return html[html.index("<nav") : html.index("</nav>")]


def _link(name: str) -> str:
    return f'href="{reverse(name)}"'


def test_menu_is_the_accounts_own_when_kept_between_requests(
    client, citizen, verifier, head, analyst, operator_desa
) -> None:
    # One process, one fragment store: each role and language still gets its own menu.
    anonymous = _menu(client)
    assert _link("account_login") in anonymous and _link("mydata:overview") not in anonymous
    mine = _menu(client, citizen)
    assert _link("mydata:overview") in mine and _link("officer_home") not in mine
    reviewing = _menu(client, verifier)
    assert _link("skts:register") in reviewing and _link("verification:reports") not in reviewing
    assert _link("verification:reports") in _menu(client, head)
    analysing = _menu(client, analyst)
    assert _link("statistics:population") in analysing and _link("officer_home") not in analysing
    operating = _menu(client, operator_desa)
    assert _link("officer_home") in operating and _link("skts:register") not in operating
    assert _menu(client, citizen) == mine
    indonesian = _menu(client, citizen, language="id")
    with translation.override("id"):
        assert translation.gettext("My data") in indonesian
    assert "My data" not in indonesian


def test_language_form_points_back_at_each_page_when_its_choices_are_kept(client, citizen) -> None:
    client.force_login(citizen)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    first = client.get(reverse("submissions:list")).text
    second = client.get(reverse("home") + "?a=1").text
    assert f'name="next" value="{reverse("submissions:list")}"' in first
    assert f'name="next" value="{reverse("home")}?a=1"' in second
    assert '<option value="en" lang="en" selected>' in second
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    assert '<option value="id" lang="id" selected>' in client.get(reverse("home")).text
