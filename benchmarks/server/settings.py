"""The product's settings with the benchmark's urlconf (the product plus a bare constant view).

Used only by ``benchmarks/fhir_intake.py`` and ``benchmarks/scale_out_intake.py`` through
``DJANGO_SETTINGS_MODULE=benchmarks.server.settings``; the product never imports it.
"""

from smr.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.server.urls"
