"""Pure analysis of runs, without Streamlit or plotly: computations over a run's recorded
weights (:mod:`~app.analysis.weights`), the classroom sentence that puts one example's weights
in words, the story's numbers per epoch, a run's progress, and the tables and words about runs
as a whole. Modules here import NumPy, pandas, the library's public names (``from gdw import
...``) and each other, nothing else of the app, so every function is tested without a
browser."""
