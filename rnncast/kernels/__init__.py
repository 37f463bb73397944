"""Numba kernels of the recurrent engine: plain loops over arrays the caller allocated.

Kernels know arrays, shapes and dtypes only. They never raise on bad input (the Python
side in `rnncast.model` validates shapes, dtypes and finiteness first) and never print.
Shapes are time-major: T steps, B batch rows, I inputs, H hidden units, G gates.

Importing this package chooses Numba's cache folder before any kernel module imports
Numba (rnncast.kernels.cache); the rest of rnncast reaches Numba only through here.
"""

from rnncast.kernels.cache import choose_cache_dir

choose_cache_dir()
