"""The optional compiled part of the moderation detector (``moderation/_plainread.pyx``).

Everything else is configured in pyproject.toml. The extension is built when Cython and a
C compiler are at hand; if the build fails, the package installs without it and the
detector reads words in pure Python (the same verdicts, more slowly).
"""

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the extensions, but let a failed build leave the pure-Python fallback."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means: go without
            self.warn(f"the compiled detector was not built ({exc}); using pure Python")

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self.warn(f"{ext.name} was not built ({exc}); using pure Python")


def extensions() -> list:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    try:
        return cythonize(["moderation/_plainread.pyx"], language_level=3, quiet=True)
    except Exception as exc:  # noqa: BLE001 - a failed translation means: go without
        print(f"the compiled detector was not translated ({exc}); using pure Python")
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
