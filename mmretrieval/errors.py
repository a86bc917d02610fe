"""The errors mmretrieval raises on purpose; each message says what to do next."""


class MMRError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class ConfigError(MMRError):
    """A profile or option is invalid."""


class ModelMissingError(MMRError):
    """A model a profile needs is not present on this machine."""


class IndexDirError(MMRError):
    """The index directory is missing, locked or was built with other models."""


class StoreUnavailableError(IndexDirError):
    """The vector store's server does not answer (stopped, unreachable): try again later."""


class MediaError(MMRError):
    """A media file cannot be read: corrupt, truncated, empty or unsupported."""
