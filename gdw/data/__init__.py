"""The data wing: where a dataset's images come from and how its labels are corrupted.

Readers of each dataset's files (:mod:`~gdw.data.sources`, :mod:`~gdw.data.cifar_files`, the
human labels of :mod:`~gdw.data.human_labels`) and their entries in the dataset registry
(:mod:`~gdw.data.dataset_table`); the class choice (:mod:`~gdw.data.classes`); the corruptions
(:mod:`~gdw.data.noise`); and :func:`~gdw.data.dataset.load_dataset`, which puts them together.
"""
