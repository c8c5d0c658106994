"""Writers: query results in table, CSV, JSON Lines or Parquet (``results``) and SQuAD files (``squad``)."""
