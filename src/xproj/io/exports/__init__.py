"""Exports of committed runs as files for training: EntityCS (``entitycs``) and PAXQA
(``paxqa``, SQuAD v1.1 / MLQA layouts)."""
