"""EntityCS: entity code-switched corpora from entity-linked English text (issue 5)."""
