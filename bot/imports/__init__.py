"""Reading data files (JSON/CSV datasets, the STOP tracker) into records, or saying where not."""
