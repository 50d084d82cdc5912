"""One module per capability registering its jobs; scheduler.jobs.load() imports them all."""
