import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "purworejo_portal.settings.production")

application = get_wsgi_application()

# Whatever loading the portal built lives as long as the worker: frozen, the collector no
# longer walks it on each full collection (3 % of a cek data view, docs/benchmarks.md). The
# garbage of loading is collected first, so none of it is kept.
gc.collect()
gc.freeze()
