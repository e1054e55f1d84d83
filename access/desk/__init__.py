"""The seller's desk: the pages staff sell from (views.py), their forms (forms.py), where the
admin mounts them (urls.py), and the admin history they write (history.py)."""
