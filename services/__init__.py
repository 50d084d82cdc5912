"""Rules and transactions. Pure functions first, then use cases taking a unit of work and `now`."""
