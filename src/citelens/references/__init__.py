"""References: identifiers, reference-string parsing and resolution of references to works."""
