"""Errors raised by hullscan, each carrying the process exit code it maps to.

Tree::

    HullscanError                      exit 3 (internal) unless a subclass says otherwise
    ├── UsageError                     exit 2: bad command line or options
    ├── ImageError                     exit 2: the input image is unreadable or hostile
    │   ├── SourceNotFoundError        the path/reference does not exist or is not an image
    │   ├── ManifestError              index/manifest/config missing, malformed or unsupported
    │   ├── DigestMismatchError        bytes do not hash to the digest that names them
    │   ├── LayerFormatError           corrupt compression or tar stream, unsafe entry names
    │   └── LimitExceededError         a size/ratio/count limit was hit (decompression bombs)
    ├── ParseError                     exit 2: a parser rejected its input (analyzers catch it
    │                                  per file and record it as a status; it only escapes
    │                                  when the input itself is the scan target, e.g. an SBOM)
    └── CacheError                     exit 3: the cache directory is unusable

Exit codes (also in docs/exit-codes.md): 0 success, 1 policy failed, 2 usage or input error,
3 internal error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_POLICY_FAILED = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3


class HullscanError(Exception):
    """Base of every error hullscan raises on purpose."""

    exit_code: int = EXIT_INTERNAL_ERROR

    def diagnostics(self) -> str:
        """One line a user can act on; the CLI prints exactly this."""
        return str(self)


class UsageError(HullscanError):
    exit_code = EXIT_INPUT_ERROR


class ImageError(HullscanError):
    exit_code = EXIT_INPUT_ERROR


class SourceNotFoundError(ImageError):
    pass


class ManifestError(ImageError):
    pass


class DigestMismatchError(ImageError):
    pass


class LayerFormatError(ImageError):
    pass


class LimitExceededError(ImageError):
    pass


class ParseError(HullscanError):
    """A parser rejected its input. Every parser raises only this on bad input."""

    exit_code = EXIT_INPUT_ERROR


class CacheError(HullscanError):
    # An unusable cache directory is a configuration problem the user fixes (a path, rights).
    exit_code = EXIT_INPUT_ERROR
