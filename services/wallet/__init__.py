"""The wallet and the city voucher: what a resident holds from every capability (sources),
buying, gifting, redeeming and refunding vouchers, and the acceptance points."""
