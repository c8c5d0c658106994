"""One self-contained HTML report per committed run: ``xproj report RUN_ID``.

:func:`build_report` reads a run from the lake (:mod:`xproj.report.data`) and renders it
(:mod:`xproj.report.render`): projection rates per language and label and the drop reasons as
charts, a sample of pairs side by side with the spans highlighted and the word alignment drawn,
the worst cases per drop reason with the reason explained, and filters by language, label and
reason. PAXQA runs show the question and answer in both contexts, EntityCS runs the code-switched
sentence with its switched entities. The file needs no network; every string from a dataset is
escaped, so text can never become markup.
"""

from xproj.report.data import ReportData, load_report_data
from xproj.report.render import render_report, write_report

__all__ = ["ReportData", "load_report_data", "render_report", "write_report"]
