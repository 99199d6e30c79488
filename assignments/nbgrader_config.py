"""nbgrader configuration of the course: `make assignments` uses it to write the
student versions. Grading does not use nbgrader's autograder: see grading/."""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "seqlm"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
