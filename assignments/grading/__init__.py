"""The course's grader: every submission in its own sandbox, verdicts in the grader's process.

:mod:`grading.sandbox` (bubblewrap, an unprivileged user, resource limits),
:mod:`grading.kernel` (a Jupyter kernel in it, cells under a clock, bounded
outputs), :mod:`grading.checks` (what an assignment's ``checks.py`` is made of,
and the comparison), :mod:`grading.assignment` (source notebooks and checks,
cross-checked), :mod:`grading.feedback` (the student's page), and
:mod:`grading.grader` (a class, one student at a time). ``course.py`` is the
command line.
"""
