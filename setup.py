"""The optional compiled part of the moderation detector (``moderation/_plainread.pyx``).

Everything else is configured in pyproject.toml. The extension is built when Cython and a
C compiler are at hand; if the build fails, the package installs without it and the
detector reads words in pure Python (the same verdicts, more slowly).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the extensions, but let a failed build leave the pure-Python fallback."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers: install without it
            self.warn(f"the compiled detector was not built ({exc}); using pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self.warn(f"{ext.name} was not built ({exc}); using pure Python")


def extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    try:
        return cythonize(["moderation/_plainread.pyx", "moderation/_tokenize.pyx"],
                         language_level=3, quiet=True)
    except Exception as exc:
        print(f"the compiled detector was not translated ({exc}); using pure Python")
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
