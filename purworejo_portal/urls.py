from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from citizens import views as citizen_views

urlpatterns = [
    path("", citizen_views.home, name="home"),
    # The switch only sets the language cookie: a forged post can do no more than change the
    # language a visitor reads. Without a token in it, a page whose one form is the switch
    # (most pages, the cek data page among them) masks no CSRF token and sets no CSRF cookie.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    # Under /akun/ so that an account not yet set up reaches it (citizens.middleware).
    path("akun/undangan/", include("citizens.invitation_urls")),
    path("akun/", include("allauth.urls")),
    path("petugas/", citizen_views.officer_home, name="officer_home"),
    path("petugas/penduduk/", include("citizens.urls")),
    path("petugas/statistik/", include("citizens.stats_urls")),
    path("petugas/", include("verification.urls")),
    path("", include("citizens.link_urls")),
    path("saya/", include("submissions.urls_mydata")),
    path("pengajuan/", include("submissions.urls")),
    path("lembaga/", include("stakeholders.urls")),
    path("skts/", include("skts.urls")),
    path("api/", include("stakeholders.api.urls")),
    path("sehat/", citizen_views.health, name="health"),
    path("halo/", citizen_views.hello, name="hello"),
    path("admin/", admin.site.urls),
]
