"""Trust: signed tokens with the town's keys, identity checked in person, the resident card."""
