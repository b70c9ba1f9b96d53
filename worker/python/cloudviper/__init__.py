"""Client-side names for tasks that run on cloudviper Java workers.

Nothing here computes anything: a cloudviper worker recognises these functions by their qualified
name (``cloudviper.tasks.arange_f64`` ...) and runs its Java implementation instead. Submit them
with ``resources={"java": 1}`` so that only Java workers (which advertise the ``java`` resource)
get them.
"""
