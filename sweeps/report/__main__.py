"""`python -m sweeps.report FOLDER [METRIC ...]`: write a folder's report.html."""

from sweeps.report._render import main

if __name__ == "__main__":
    raise SystemExit(main())
