"""The models wing: the classifiers (:mod:`~gdw.models.classifiers`) and their entries in the
model registry (:mod:`~gdw.models.model_table`), which ``--model`` and every list of models
read."""
