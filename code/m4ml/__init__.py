"""m4ml: the code of *Mathematics for Machine Learning*.

Each chapter ``book/<part>/<slug>.md`` has its reusable code in
``m4ml.<slug>``; import the module you need, for example
``from m4ml.linear_algebra import solve``. This file imports nothing on
purpose, so that a chapter depends only on the modules it names.
"""

__version__ = "0.1.0"
