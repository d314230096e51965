"""The markets' books: what each market remembers between ledger operations.

- `jobs`: the job market's book (open jobs, sealed bids, reputations, awards).
- `compute_book`: the sim-time market's book (offers, requests, open leases and their usage).
- `compute`: the sim-time market at work (clearing, leases, spot checks and slashing).
"""
