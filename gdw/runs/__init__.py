"""The run-folder wing: what a run records, the files that hold it, and what is read from them.

The files' layout (:mod:`~gdw.runs.files`), their writer and their one defensive reader, the
statistics a run records of its weights, and what is made of a finished run: the ranked label
errors (:mod:`~gdw.runs.label_issues`) and a person's verdicts on them
(:mod:`~gdw.runs.review`).
"""
