"""nbgrader configuration of the course. `make assignments` and `make grade` use it."""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "seqlm"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: a cell that runs longer than this is interrupted, scores 0, and the
# notebook carries on with the next cell (errors never stop the run).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True


class ErrorMessageOnly(Preprocessor):
    """In feedback, a failed test cell shows its error message, not the test code
    that a traceback would quote."""

    enabled = True  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


# Feedback goes to students: it must not reveal the hidden tests.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ErrorMessageOnly,
                                    CSSHTMLHeaderPreprocessor]
