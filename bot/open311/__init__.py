"""The Open311 GeoReport v2 interface of the web app (JSON and XML), and the photo URLs."""
