"""Payment providers (Stripe, demo) and their web routes. Transport libraries live here only."""
