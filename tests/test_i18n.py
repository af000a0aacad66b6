"""The Indonesian catalogue is complete, current with the code, and shown by default."""

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import chdir
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from citizens.choices import Education, FamilyRelation, MaritalStatus, Occupation, Religion
from tests.conftest import require_tool

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "id" / "LC_MESSAGES" / "django.po"
# What makemessages reads (its default extensions) and the folders it must skip: tools, build
# output, and code whose strings users never see.
SOURCE_SUFFIXES = (".py", ".html", ".txt")
SKIPPED_DIRS = frozenset(
    {".venv", "var", "node_modules", "tests", "benchmarks", "locale", "docs", "__pycache__"}
)
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdifr]|%[sdifr]|\{\w*\}")

Key = tuple[str | None, str, str]


def _key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def _describe(key: Key) -> str:
    context, msgid, _plural = key
    return f"{context}|{msgid!r}" if context else repr(msgid)


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def _skipped(path: Path) -> bool:
    return path.name in SKIPPED_DIRS or path.name.startswith(".") or path.suffix == ".egg-info"


def _source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.is_dir():
            if not _skipped(path):
                yield from _source_files(path)
        elif path.suffix in SOURCE_SUFFIXES:
            yield path


def _copy_sources(target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> list[str]:
        paths = [Path(directory) / name for name in names]
        return [
            path.name
            for path in paths
            if (_skipped(path) if path.is_dir() else path.suffix not in SOURCE_SUFFIXES)
        ]

    shutil.copytree(BASE_DIR, target, ignore=ignore)


@pytest.fixture(scope="module")
def compiled_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Serve translations compiled from the committed .po, never a stale or missing .mo."""
    locale_dir = tmp_path_factory.mktemp("locale")
    for po_path in (BASE_DIR / "locale").glob("*/LC_MESSAGES/*.po"):
        target = locale_dir / po_path.relative_to(BASE_DIR / "locale")
        target.parent.mkdir(parents=True, exist_ok=True)
        polib.pofile(str(po_path)).save_as_mofile(str(target.with_suffix(".mo")))
    with override_settings(LOCALE_PATHS=[locale_dir]):
        yield


def test_indonesian_catalogue_translates_every_msgid() -> None:
    catalogue = polib.pofile(str(CATALOGUE))
    assert catalogue.metadata.get("Language") == "id"
    assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", "")
    assert catalogue.metadata.get("Plural-Forms") == "nplurals=1; plural=0;"
    assert not catalogue.metadata_is_fuzzy, "the header is marked fuzzy"

    sources = [path.read_text(encoding="utf-8") for path in _source_files(BASE_DIR)]
    problems = []
    for entry in catalogue:
        name = _describe(_key(entry))
        if entry.obsolete:
            quoted = (f'"{entry.msgid}"', f"'{entry.msgid}'")
            if any(form in text for text in sources for form in quoted):
                problems.append(f"{name}: obsolete (#~) but still in the code")
            continue
        if entry.fuzzy:
            problems.append(f"{name}: fuzzy")
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            if sorted(forms) != [0]:
                problems.append(f"{name}: needs exactly one plural form, msgstr[0]")
            expected = _placeholders(entry.msgid_plural)
            translations = [text for _index, text in sorted(forms.items())]
        else:
            expected = _placeholders(entry.msgid)
            translations = [entry.msgstr]
        for text in translations:
            if not text.strip():
                problems.append(f"{name}: untranslated")
            elif _placeholders(text) != expected:
                problems.append(
                    f"{name}: placeholders {sorted(_placeholders(text).elements())} "
                    f"instead of {sorted(expected.elements())}"
                )
    assert not problems, "Fix locale/id/LC_MESSAGES/django.po:\n" + "\n".join(problems)


def test_catalogue_covers_every_marked_string_when_makemessages_runs(tmp_path: Path) -> None:
    require_tool("xgettext")
    require_tool("msguniq")
    project = tmp_path / "project"
    _copy_sources(project)
    # Extract from a copy: makemessages writes temporary files next to the templates it reads.
    with override_settings(LOCALE_PATHS=[project / "locale"]), chdir(project):
        call_command("makemessages", locale=["id"], no_location=True, verbosity=0)
    extracted = polib.pofile(str(project / "locale" / "id" / "LC_MESSAGES" / "django.po"))
    committed = polib.pofile(str(CATALOGUE))

    marked = {_key(entry) for entry in extracted if not entry.obsolete}
    catalogued = {_key(entry) for entry in committed if not entry.obsolete}
    missing = sorted(marked - catalogued, key=str)
    assert not missing, (
        "Marked for translation but missing from locale/id/LC_MESSAGES/django.po (run "
        "makemessages as in docs/translations.md, then translate):\n"
        + "\n".join(_describe(key) for key in missing)
    )


@pytest.mark.django_db
def test_pages_render_in_indonesian_by_default(client, compiled_catalogue: None) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="id"' in response.text
    assert "Portal Kependudukan Purworejo" in response.text
    assert "Purworejo Population Portal" not in response.text

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="en"' in response.text
    assert "Purworejo Population Portal" in response.text
    assert "Portal Kependudukan Purworejo" not in response.text


def test_code_list_labels_are_official_indonesian(compiled_catalogue: None) -> None:
    members = [
        Religion.BELIEF,
        Education.MASTER,
        Education.DOCTORATE,
        MaritalStatus.MARRIED_UNREGISTERED,
        Occupation(89),
        Occupation(88),
        FamilyRelation.HEAD,
    ]
    with translation.override("id"):
        labels = [f"{type(member).__name__}.{member.name}: {member.label}" for member in members]
    assert labels == [
        "Religion.BELIEF: Kepercayaan terhadap Tuhan YME",
        "Education.MASTER: Strata II",
        "Education.DOCTORATE: Strata III",
        "MaritalStatus.MARRIED_UNREGISTERED: Kawin Belum Tercatat",
        "Occupation.OTHER: Lainnya",
        "Occupation.SELF_EMPLOYED: Wiraswasta",
        "FamilyRelation.HEAD: Kepala Keluarga",
    ]
