"""The builders behind ``dasl data``: training labels made from what the shared folder holds.

* :mod:`~dasl.builders.build3d`: HELEN/AFW photos fitted to their 68 points and profiled (300W-LP style);
* :mod:`~dasl.builders.fit_aflw`: AFLW's in-the-wild crops fitted to their visible points;
* :mod:`~dasl.builders.label_wild`: 68 points for unlabelled images from dlib;
* :mod:`~dasl.builders.profiling`: the face profiler the first one uses.
"""
