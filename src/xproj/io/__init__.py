"""Reading and writing data: input readers (``readers``), flow inputs (``inputs``), query output
formats (``output``) and training-ready exports of generated corpora (``exports``)."""
