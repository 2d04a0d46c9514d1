# cython: language_level=3, boundscheck=False, wraparound=False
"""``normalize.TOKEN_RE`` as a loop in C: the same tokens, found without the regex engine.

A token is a run of word characters (``\\w``, combining marks, invisible characters,
masking symbols), and further runs joined to it by one to five separator characters.
"""

from cpython.unicode cimport Py_UNICODE_ISALNUM, PyUnicode_DATA, PyUnicode_KIND, PyUnicode_READ


cdef inline bint _word(Py_UCS4 ch) noexcept:
    """A character ``[\\w{_MARKS}{_INVISIBLE}*#@$%]`` matches (re's \\w: alphanumeric or _)."""
    if ch < 0x80:
        return (0x30 <= ch <= 0x39 or 0x41 <= ch <= 0x5A or 0x61 <= ch <= 0x7A or ch == 0x5F
                or ch == 0x2A or ch == 0x23 or ch == 0x40 or ch == 0x24 or ch == 0x25)
    if 0x410 <= ch <= 0x44F or ch == 0x401 or ch == 0x451:  # Russian letters: the usual case
        return True
    if Py_UNICODE_ISALNUM(ch):
        return True
    return (0x300 <= ch <= 0x36F or 0x483 <= ch <= 0x489 or 0x1AB0 <= ch <= 0x1AFF
            or 0x1DC0 <= ch <= 0x1DFF or 0x20D0 <= ch <= 0x20FF or 0xFE20 <= ch <= 0xFE2F
            or ch == 0xAD or ch == 0x34F or ch == 0x180E or 0x200B <= ch <= 0x200F
            or 0x2060 <= ch <= 0x2064 or ch == 0xFEFF)


cdef inline bint _separator(Py_UCS4 ch) noexcept:
    """A character of ``normalize._INNER_SEP``."""
    if ch < 0x80:
        return ch in b".-_'`~|/\\+:,^\"=?()[]{}"
    return ch in u"\u2019\u00b7\u2022\u2010\u2011\u2013\u2014\u2026"


cdef struct Text:
    int kind  # the string's storage, read directly: text[i] checks the string every time
    void* data
    Py_ssize_t size


cdef inline Text _text(str text) noexcept:
    cdef Text t
    t.kind = PyUnicode_KIND(text)
    t.data = PyUnicode_DATA(text)
    t.size = len(text)
    return t


cdef inline Py_UCS4 _at(Text t, Py_ssize_t i) noexcept:
    return PyUnicode_READ(t.kind, t.data, i)


cdef Py_ssize_t _token_end(Text t, Py_ssize_t start) noexcept:
    """Where the token starting at ``start`` (a word character) ends."""
    cdef Py_ssize_t q = start + 1
    cdef Py_ssize_t j
    while True:
        while q < t.size and _word(_at(t, q)):
            q += 1
        j = 1
        while j <= 5 and q + j - 1 < t.size and _separator(_at(t, q + j - 1)):
            if q + j < t.size and _word(_at(t, q + j)):
                break
            j += 1
        else:
            return q
        q += j


def tokens(str text):
    """``TOKEN_RE.findall(text)``."""
    cdef list out = []
    cdef Text t = _text(text)
    cdef Py_ssize_t p = 0, end
    while p < t.size:
        if _word(_at(t, p)):
            end = _token_end(t, p)
            out.append(text[p:end])
            p = end
        else:
            p += 1
    return out


def token_bounds(str text):
    """The start and end of every token of ``TOKEN_RE.finditer(text)``, as two lists."""
    cdef list starts = []
    cdef list ends = []
    cdef Text t = _text(text)
    cdef Py_ssize_t p = 0, end
    while p < t.size:
        if _word(_at(t, p)):
            end = _token_end(t, p)
            starts.append(p)
            ends.append(end)
            p = end
        else:
            p += 1
    return starts, ends
