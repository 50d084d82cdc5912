"""API keys of machine clients: Open311 apps, digital locks; one store for every purpose."""
