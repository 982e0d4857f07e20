"""Model upload: read a package, check everything DESIGN §2 asks, compile it once.

`compile_model` answers with a `CompiledModel` or a `ModelInvalidError` that lists every
problem (element id, line, plain message); nothing else ever leaves it.
"""

from engine.modeling.compiler import compile_model
from engine.modeling.package import read_package_dir, read_package_zip

__all__ = ["compile_model", "read_package_dir", "read_package_zip"]
