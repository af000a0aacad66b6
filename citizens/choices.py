"""Official code lists of the F-1.01 biodata form (SIAK codes), as integer choices.

Labels are English msgids; the Indonesian catalogue carries the official Indonesian names.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Sex(models.IntegerChoices):
    MALE = 1, _("Male")
    FEMALE = 2, _("Female")


class Religion(models.IntegerChoices):
    ISLAM = 1, _("Islam")
    PROTESTANT = 2, _("Protestant Christian")
    CATHOLIC = 3, _("Catholic")
    HINDU = 4, _("Hindu")
    BUDDHIST = 5, _("Buddhist")
    CONFUCIAN = 6, _("Confucian")
    BELIEF = 7, _("Belief in One Almighty God")


class BloodType(models.IntegerChoices):
    A = 1, "A"
    B = 2, "B"
    AB = 3, "AB"
    O = 4, "O"
    A_POS = 5, "A+"
    A_NEG = 6, "A-"
    B_POS = 7, "B+"
    B_NEG = 8, "B-"
    AB_POS = 9, "AB+"
    AB_NEG = 10, "AB-"
    O_POS = 11, "O+"
    O_NEG = 12, "O-"
    UNKNOWN = 13, _("Unknown")


class MaritalStatus(models.IntegerChoices):
    """Status perkawinan as printed on F-1.01 (six codes)."""

    SINGLE = 1, _("Not married")
    MARRIED_REGISTERED = 2, _("Married, registered")
    MARRIED_UNREGISTERED = 3, _("Married, not registered")
    DIVORCED_REGISTERED = 4, _("Divorced, registered")
    DIVORCED_UNREGISTERED = 5, _("Divorced, not registered")
    WIDOWED = 6, _("Widowed")


class FamilyRelation(models.IntegerChoices):
    """Status hubungan dalam keluarga (SHDK), codes 1-11."""

    HEAD = 1, _("Head of family")
    HUSBAND = 2, _("Husband")
    WIFE = 3, _("Wife")
    CHILD = 4, _("Child")
    CHILD_IN_LAW = 5, _("Son/daughter-in-law")
    GRANDCHILD = 6, _("Grandchild")
    PARENT = 7, _("Parent")
    PARENT_IN_LAW = 8, _("Parent-in-law")
    OTHER_RELATIVE = 9, _("Other relative")
    HOUSEHOLD_HELPER = 10, _("Household helper")
    OTHER = 11, _("Other")


class Education(models.IntegerChoices):
    """Pendidikan terakhir as printed on the KK, codes 1-10."""

    NONE = 1, _("No schooling / not yet in school")
    PRIMARY_INCOMPLETE = 2, _("Did not finish primary school")
    PRIMARY = 3, _("Primary school or equivalent")
    JUNIOR_SECONDARY = 4, _("Junior secondary school or equivalent")
    SENIOR_SECONDARY = 5, _("Senior secondary school or equivalent")
    DIPLOMA_1_2 = 6, _("Diploma I/II")
    DIPLOMA_3 = 7, _("Academy / Diploma III / Bachelor's (Sarjana Muda)")
    DIPLOMA_4_S1 = 8, _("Diploma IV / Bachelor's degree (S1)")
    MASTER = 9, _("Master's degree (S2)")
    DOCTORATE = 10, _("Doctorate (S3)")


class Citizenship(models.IntegerChoices):
    WNI = 1, _("Indonesian citizen (WNI)")
    WNA = 2, _("Foreign national (WNA)")


class Disability(models.IntegerChoices):
    NONE = 0, _("None")
    PHYSICAL = 1, _("Physical disability")
    VISUAL = 2, _("Visual impairment / blind")
    HEARING_SPEECH = 3, _("Hearing or speech impairment")
    MENTAL = 4, _("Mental / psychosocial disability")
    PHYSICAL_MENTAL = 5, _("Physical and mental disability")
    OTHER = 6, _("Other disability")


class HealthInsurance(models.TextChoices):
    """Health-insurance membership, as the health office reports it."""

    NONE = "none", _("Not insured")
    JKN_PBI = "jkn_pbi", _("JKN-KIS, contributions paid by the state (PBI)")
    JKN_NON_PBI = "jkn_non_pbi", _("JKN-KIS, own contributions")
    PRIVATE = "private", _("Private insurance only")


class LifeStatus(models.TextChoices):
    ALIVE = "alive", _("Alive")
    DEAD = "dead", _("Dead")
    MOVED_AWAY = "moved_away", _("Moved away")
    MISSING = "missing", _("Missing")


class StayPurpose(models.TextChoices):
    STUDY = "study", _("Study")
    WORK = "work", _("Work")
    FAMILY = "family", _("Following family")
    BUSINESS = "business", _("Business")
    OTHER = "other", pgettext_lazy("stay purpose", "Other")


class AreaKind(models.TextChoices):
    DESA = "desa", _("Village (desa)")
    KELURAHAN = "kelurahan", _("Urban village (kelurahan)")


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    OPERATOR_DESA = "operator_desa", _("Village operator")
    OFFICER_KECAMATAN = "officer_kecamatan", _("Kecamatan officer")
    VERIFIER = "verifier", _("Dukcapil verifier")
    HEAD = "head", _("Head of Dukcapil")
    INSTITUTION_ADMIN = "institution_admin", _("Institution admin")
    ANALYST = "analyst", _("Data analyst")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


class ChangeSource(models.TextChoices):
    SEED = "seed", _("Initial load")
    SUBMISSION = "submission", _("Citizen submission")
    IMPORT_ROW = "import_row", _("Institution file upload")
    API = "api", _("Institution API")
    OFFICER = "officer", _("Officer correction")
    SYSTEM = "system", _("System")


class Registry(models.TextChoices):
    PERMANENT = "permanent", _("Permanent resident")
    NON_PERMANENT = "non_permanent", _("Non-permanent resident")
    FAMILY = "family", _("Family")


class Occupation(models.IntegerChoices):
    """Jenis pekerjaan, the 89 SIAK codes."""

    UNEMPLOYED = 1, _("Not working / not yet working")
    HOMEMAKER = 2, _("Homemaker")
    STUDENT = 3, _("Pupil / student")
    RETIRED = 4, _("Retired")
    CIVIL_SERVANT = 5, _("Civil servant (PNS)")
    ARMED_FORCES = 6, _("Armed forces (TNI)")
    POLICE = 7, _("Police (POLRI)")
    TRADE = 8, _("Trade")
    FARMER = 9, _("Farmer / planter")
    LIVESTOCK = 10, _("Livestock breeder")
    FISHERY = 11, _("Fisher / fishery")
    INDUSTRY = 12, _("Industry")
    CONSTRUCTION = 13, _("Construction")
    TRANSPORT = 14, _("Transport")
    PRIVATE_EMPLOYEE = 15, _("Private-sector employee")
    BUMN_EMPLOYEE = 16, _("State-owned enterprise employee (BUMN)")
    BUMD_EMPLOYEE = 17, _("Regional-owned enterprise employee (BUMD)")
    HONORARY_EMPLOYEE = 18, _("Honorary employee")
    DAY_LABOURER = 19, _("Casual day labourer")
    FARM_LABOURER = 20, _("Farm / plantation labourer")
    FISHERY_LABOURER = 21, _("Fishery labourer")
    LIVESTOCK_LABOURER = 22, _("Livestock labourer")
    DOMESTIC_WORKER = 23, _("Domestic worker")
    BARBER = 24, _("Barber")
    ELECTRICIAN = 25, _("Electrician")
    MASON = 26, _("Mason")
    CARPENTER = 27, _("Carpenter")
    COBBLER = 28, _("Shoe repairer")
    BLACKSMITH = 29, _("Welder / blacksmith")
    TAILOR = 30, _("Tailor")
    DENTAL_TECHNICIAN = 31, _("Dental technician")
    MAKEUP_ARTIST = 32, _("Make-up artist")
    DRESSER = 33, _("Dresser")
    HAIRDRESSER = 34, _("Hairdresser")
    MECHANIC = 35, _("Mechanic")
    ARTIST = 36, _("Artist")
    HEALER = 37, _("Traditional healer")
    TRADITIONAL_MIDWIFE = 38, _("Traditional birth attendant (paraji)")
    FASHION_DESIGNER = 39, _("Fashion designer")
    TRANSLATOR = 40, _("Translator")
    IMAM = 41, _("Mosque imam")
    PASTOR_PROTESTANT = 42, _("Minister (pendeta)")
    PRIEST_CATHOLIC = 43, _("Priest (pastor)")
    JOURNALIST = 44, _("Journalist")
    PREACHER = 45, _("Religious teacher / preacher")
    COOK = 46, _("Cook")
    EVENT_PROMOTER = 47, _("Event promoter")
    DPR_MEMBER = 48, _("Member of the DPR-RI")
    DPD_MEMBER = 49, _("Member of the DPD")
    BPK_MEMBER = 50, _("Member of the BPK")
    PRESIDENT = 51, _("President")
    VICE_PRESIDENT = 52, _("Vice President")
    CONSTITUTIONAL_COURT = 53, _("Member of the Constitutional Court")
    MINISTER = 54, _("Member of the cabinet / ministry")
    AMBASSADOR = 55, _("Ambassador")
    GOVERNOR = 56, _("Governor")
    VICE_GOVERNOR = 57, _("Vice Governor")
    REGENT = 58, _("Regent (bupati)")
    VICE_REGENT = 59, _("Vice Regent")
    MAYOR = 60, _("Mayor")
    VICE_MAYOR = 61, _("Vice Mayor")
    DPRD_PROVINCE = 62, _("Member of the provincial DPRD")
    DPRD_REGENCY = 63, _("Member of the regency/city DPRD")
    LECTURER = 64, _("Lecturer")
    TEACHER = 65, _("Teacher")
    PILOT = 66, _("Pilot")
    LAWYER = 67, _("Lawyer")
    NOTARY = 68, _("Notary")
    ARCHITECT = 69, _("Architect")
    ACCOUNTANT = 70, _("Accountant")
    CONSULTANT = 71, _("Consultant")
    DOCTOR = 72, _("Doctor")
    MIDWIFE = 73, _("Midwife")
    NURSE = 74, _("Nurse")
    PHARMACIST = 75, _("Pharmacist")
    PSYCHIATRIST = 76, _("Psychiatrist / psychologist")
    TV_PRESENTER = 77, _("Television presenter")
    RADIO_PRESENTER = 78, _("Radio presenter")
    SEAFARER = 79, _("Seafarer")
    RESEARCHER = 80, _("Researcher")
    DRIVER = 81, _("Driver")
    BROKER = 82, _("Broker")
    PARANORMAL = 83, _("Paranormal")
    TRADER = 84, _("Trader")
    VILLAGE_OFFICIAL = 85, _("Village official")
    VILLAGE_HEAD = 86, _("Village head")
    NUN = 87, _("Nun")
    SELF_EMPLOYED = 88, _("Self-employed")
    OTHER = 89, pgettext_lazy("occupation", "Other")


class AccessPurpose(models.TextChoices):
    OFFICER_VIEW = "officer_view", _("Officer viewed the record")
    REVIEW = "review", _("Reviewed for a submission")
    INSTITUTION_READ = "institution_read", _("Institution read through the API")
    EXPORT = "export", _("Included in an export")
    LINK_FAILED = "link_failed", _("Failed attempt to link an account to this record")
    LINK_REFUSED = (
        "link_refused",
        _("Another account gave this record's details; refused, as it is linked to yours"),
    )
    OFFICER_LIST = "officer_list", _("Shown to an officer in a list or search result")
    EVIDENCE = "evidence", _("Officer opened the evidence of a submission")


class AuditAction(models.TextChoices):
    RECORD_VIEW = "record_view", _("Viewed a full record")
    REVIEW_VIEW = "review_view", _("Opened a submission for review")
    APPROVE = "approve", _("Approved at a tier")
    REJECT = "reject", _("Rejected")
    RETURN = "return", _("Returned for revision")
    MERGE = "merge", _("Merged into the registry")
    LETTER_REVOKE = "letter_revoke", _("Revoked a temporary residence letter")
    LINK_CONFIRM = "link_confirm", _("Linked an account in person")
    LINK_MOVE = "link_move", _("Moved an account link to another account")
    MEMBER_DEACTIVATE = "member_off", _("Deactivated an institution admin")
    KEY_SUSPEND = "key_suspend", _("Suspended an API key")
    KEY_HANDOVER = "key_handover", _("Handed an API key over to another admin")
    AGREEMENT_SCOPE = "agreement_scope", _("Set the population an agreement covers")
    FILES_PURGE = "files_purge", _("Deleted files after their retention period")
    ACCOUNT_INVITE = "account_invite", _("Invited an account to set its password and TOTP")
    ACCOUNT_SET_UP = "account_set_up", _("Set up an account through its invitation")
