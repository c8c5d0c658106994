"""Writers: query results in table, CSV, JSON Lines or Parquet (``results``), SQuAD files (``squad``), and files replaced atomically (``atomic``)."""
