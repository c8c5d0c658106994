"""PAXQA-style cross-lingual QA generation: answer projection first (:mod:`.answers`)."""
