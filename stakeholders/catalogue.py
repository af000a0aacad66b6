"""The registry elements partner institutions may exchange, their CSV column names, the
default authority of each kind of institution, and whose records each kind may read. Data
only: no ORM."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from stakeholders.choices import InstitutionKind, ReadScope, WriteMode

# A pseudo-element: the right to send a roster of non-permanent residents.
ROSTER = "non_permanent_roster"
# A pseudo-element: the right to read the published statistics (aggregates, suppressed).
STATISTICS = "statistics"
# Elements that are rights, not registry fields: never a column of an export or the feed.
PSEUDO_ELEMENTS = frozenset({ROSTER, STATISTICS})


@dataclass(frozen=True)
class Element:
    field: str  # the registry field (or ROSTER)
    column: str  # the CSV column / API key, in Indonesian
    label: Promise
    writable: bool  # core identity (NIK, name, birth date, sex) is never writable


ELEMENTS: tuple[Element, ...] = (
    Element("nik", "nik", _("NIK"), writable=False),
    Element("full_name", "nama_lengkap", _("Full name"), writable=False),
    Element("birth_date", "tanggal_lahir", _("Date of birth"), writable=False),
    Element("sex", "jenis_kelamin", _("Sex"), writable=False),
    Element("birth_place", "tempat_lahir", _("Place of birth"), writable=False),
    Element("religion", "agama", _("Religion"), writable=False),
    Element("desa", "kode_desa", _("Village"), writable=False),
    Element("life_status", "status_hidup", _("Life status"), writable=False),
    Element("education", "pendidikan", _("Education"), writable=True),
    Element("school_enrolment", "sekolah", _("School enrolment"), writable=True),
    Element("occupation", "pekerjaan", _("Occupation"), writable=True),
    Element("marital_status", "status_perkawinan", _("Marital status"), writable=True),
    Element(
        "marriage_record_number",
        "nomor_akta_perkawinan",
        _("Marriage or divorce record number"),
        writable=True,
    ),
    Element(
        "marriage_record_date",
        "tanggal_akta_perkawinan",
        _("Marriage or divorce record date"),
        writable=True,
    ),
    Element("health_insurance", "jaminan_kesehatan", _("Health insurance"), writable=True),
    Element("disability", "disabilitas", _("Disability"), writable=True),
    Element(ROSTER, "", _("Roster of non-permanent residents"), writable=True),
    Element(STATISTICS, "", _("Statistics (aggregates, small counts hidden)"), writable=False),
)
BY_FIELD: Mapping[str, Element] = {element.field: element for element in ELEMENTS}
BY_COLUMN: Mapping[str, Element] = {e.column: e for e in ELEMENTS if e.column}
WRITABLE = frozenset(e.field for e in ELEMENTS if e.writable)
# Identity columns every field-update row carries, checked against the registry.
IDENTITY_COLUMNS = ("nik", "nama_lengkap", "tanggal_lahir")
EFFECTIVE_DATE_COLUMN = "berlaku_sejak"
ROSTER_COLUMNS = (
    "nik",
    "nama_lengkap",
    "tanggal_lahir",
    "jenis_kelamin",
    "alamat_asal",
    "kode_wilayah_asal",
    "alamat_domisili",
    "kode_desa_domisili",
    "tujuan",
    "tanggal_mulai",
    "tanggal_selesai",
)
# Elements of form F-1.15 a roster may add: required for a person not yet registered (the
# roster then registers them, after review), optional updates for a registered one.
ROSTER_F115_COLUMNS = (
    "tempat_lahir",
    "agama",
    "status_perkawinan",
    "pendidikan",
    "pekerjaan",
    "rt_domisili",
    "rw_domisili",
)


@dataclass(frozen=True)
class Authority:
    write: WriteMode = WriteMode.NONE
    read: bool = False


_IDENTITY_READ = {"nik": Authority(read=True), "full_name": Authority(read=True)}
_IDENTITY_READ |= {"birth_date": Authority(read=True), "sex": Authority(read=True)}

# What each kind of institution may do by default; a Dukcapil head can change it per
# institution (FieldAuthority rows), within ELEMENTS' writable rule.
DEFAULT_AUTHORITY: Mapping[InstitutionKind, Mapping[str, Authority]] = {
    InstitutionKind.EDUCATION_OFFICE: {
        **_IDENTITY_READ,
        STATISTICS: Authority(read=True),
        "desa": Authority(read=True),
        "education": Authority(WriteMode.ADOPT, read=True),
        "school_enrolment": Authority(WriteMode.ADOPT, read=True),
    },
    InstitutionKind.RELIGIOUS_AFFAIRS_OFFICE: {
        **_IDENTITY_READ,
        STATISTICS: Authority(read=True),
        "religion": Authority(read=True),
        "marital_status": Authority(WriteMode.REVIEW, read=True),
        "marriage_record_number": Authority(WriteMode.REVIEW, read=True),
        "marriage_record_date": Authority(WriteMode.REVIEW, read=True),
    },
    InstitutionKind.HEALTH_OFFICE: {
        **_IDENTITY_READ,
        STATISTICS: Authority(read=True),
        "desa": Authority(read=True),
        "health_insurance": Authority(WriteMode.ADOPT, read=True),
        "disability": Authority(WriteMode.ADOPT, read=True),
    },
    InstitutionKind.UNIVERSITY: {
        **_IDENTITY_READ,
        ROSTER: Authority(WriteMode.REVIEW),
    },
    InstitutionKind.COMPANY: {
        **_IDENTITY_READ,
        ROSTER: Authority(WriteMode.REVIEW),
    },
    InstitutionKind.VILLAGE_GOVERNMENT: {
        **_IDENTITY_READ,
        STATISTICS: Authority(read=True),
        "desa": Authority(read=True),
        "life_status": Authority(read=True),
    },
    # Statistics offices read aggregates only (the statistics API), no person's data.
    InstitutionKind.STATISTICS_OFFICE: {STATISTICS: Authority(read=True)},
}

# Whose records each kind may read (UU 27/2022 art. 16, data minimisation); the elements are
# the authority above. A university or a company reads the people on its own applied rosters,
# whatever its agreement says. The other kinds read the population their cooperation
# agreement (PKS) names, among these scopes, with the clause's reference; nobody until then.
ROSTER_KINDS = frozenset({InstitutionKind.UNIVERSITY, InstitutionKind.COMPANY})
_OFFICE_SCOPES = frozenset({ReadScope.AGE, ReadScope.DESA, ReadScope.REGENCY})
AGREEMENT_SCOPES: Mapping[InstitutionKind, frozenset[ReadScope]] = {
    InstitutionKind.EDUCATION_OFFICE: _OFFICE_SCOPES,
    InstitutionKind.HEALTH_OFFICE: _OFFICE_SCOPES,
    InstitutionKind.RELIGIOUS_AFFAIRS_OFFICE: _OFFICE_SCOPES,
    InstitutionKind.VILLAGE_GOVERNMENT: frozenset({ReadScope.DESA}),
    InstitutionKind.UNIVERSITY: frozenset(),
    InstitutionKind.COMPANY: frozenset(),
    InstitutionKind.STATISTICS_OFFICE: frozenset(),
}
# School age (wajib belajar from primary school to upper secondary): the education office's
# usual population, in whole years on the day of reading.
SCHOOL_AGE = (5, 18)
