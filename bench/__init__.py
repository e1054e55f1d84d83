"""`make bench`: the reader pages under load, beside Django's own ceiling, on one machine."""
