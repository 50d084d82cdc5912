"""/meldungen: the public page of defect reports, a list and a map (Leaflet served by the app)."""
