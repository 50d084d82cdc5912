"""Events and tickets: publishing, booking with held places, tickets, calendar files."""
