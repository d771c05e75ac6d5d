"""Contributions from the actors themselves: forms checked like imports, anti-spam, the
confirmation e-mail, and the moderators' decisions (written to the catalogue, audited,
undoable). No Flask: the web pages and the command line call these functions."""
