"""Defect reports ("Mängelmelder"): configuration, places, photos, filing, staff actions
and the Open311 GeoReport v2 view."""
