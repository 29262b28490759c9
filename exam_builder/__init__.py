"""exam-builder: author, deliver and grade certification exams on nbgrader, Voila and ipywidgets."""

__version__ = "0.1.0"
