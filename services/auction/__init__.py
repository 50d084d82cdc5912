"""The lost-and-found auction: items and their listing, the daily falling price, buying and
pickup, wish prices, deal alerts and the nightly step."""
