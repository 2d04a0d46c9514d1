# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled reading of plain words: what ``Detector._read_plain`` does in Python, in C.

A plain word (Cyrillic letters only, or digits only, no run of three equal letters) that
holds no lexicon root is the usual unseen word; its analysis is its lower-case form, its
model weight and a short code. Here the letters are checked and lower-cased in one loop,
and the model's character n-grams are packed into integers and looked up in a hash table,
instead of being cut out as strings. The sum of a word's feature weights is taken in the
order the feature automaton reports them (by end position, longer first) and the way
``sum()`` adds floats on this Python version, so the result is the same float, bit for bit.

The reader also does a message's own loops over token analyses (``known``, ``codes``,
``totals``): the detector does each in Python when the extension is not built.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.tuple cimport PyTuple_Check, PyTuple_GET_ITEM
from cpython.unicode cimport (PyUnicode_4BYTE_KIND, PyUnicode_DecodeASCII,
                              PyUnicode_FromKindAndData)
from libc.math cimport fabs
from libc.stdint cimport uint64_t

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030C0000
    #define PLAINREAD_COMPENSATED_SUM 1  /* sum() of floats: Neumaier's compensation */
    #else
    #define PLAINREAD_COMPENSATED_SUM 0
    #endif
    """
    int PLAINREAD_COMPENSATED_SUM

cdef extern from *:
    """
    /* tuple.__new__(cls, fields) for a tuple subclass with no fields of its own (a
       NamedTuple), without the call through tuple.__new__ and its argument checks. */
    static PyObject *plainread_tuple_of(PyObject *cls, PyObject *fields) {
        Py_ssize_t i, n = PyTuple_GET_SIZE(fields);
        PyObject *out = ((PyTypeObject *)cls)->tp_alloc((PyTypeObject *)cls, n);
        if (out == NULL)
            return NULL;
        for (i = 0; i < n; i++) {
            PyObject *item = PyTuple_GET_ITEM(fields, i);
            Py_INCREF(item);
            PyTuple_SET_ITEM(out, i, item);
        }
        return out;
    }
    """
    object plainread_tuple_of(object cls, tuple fields)

cdef enum:
    MAX_GRAM = 10  # 6 bits a character: ten fit in 64 bits
    MAX_CHARS = 256  # longer tokens take the Python path

cdef inline int _code(unsigned int ch) noexcept:
    """A character's code in the packed alphabet (space, digits, а-я, ё); 0: none."""
    if ch == 0x20:
        return 1
    if 0x30 <= ch <= 0x39:
        return ch - 0x30 + 2
    if 0x430 <= ch <= 0x44F:
        return ch - 0x430 + 12
    if ch == 0x451:
        return 44
    return 0


cdef inline uint64_t _mix(uint64_t key) noexcept:
    key ^= key >> 33
    key *= 0xff51afd7ed558ccdULL
    key ^= key >> 33
    return key


cdef inline void _add(double* total, double* comp, double x) noexcept:
    """``total += x`` as ``sum()`` adds floats on this Python version (from 3.12 with
    Neumaier's compensation, kept in ``comp``)."""
    cdef double t = total[0] + x
    if PLAINREAD_COMPENSATED_SUM:
        if fabs(total[0]) >= fabs(x):
            comp[0] += (total[0] - t) + x
        else:
            comp[0] += (x - t) + total[0]
    total[0] = t


cdef inline double _summed(double total, double comp) noexcept:
    """The sum once every term is added (``sum()`` adds a finite compensation last)."""
    if PLAINREAD_COMPENSATED_SUM and comp != 0.0 and comp - comp == 0.0:
        return total + comp
    return total


cdef enum:
    WEIGHT_AT = 3  # the token-info fields _clean fills: weight, model_hits, code
    HITS_AT = 4
    CODE_AT = 7


cdef class PlainReader:
    """Reads plain unseen tokens for one model (or none) and one root automaton."""

    cdef uint64_t* keys  # packed n-grams (0: an empty slot)
    cdef double* values
    cdef Py_ssize_t mask
    cdef int orders[MAX_GRAM]  # the model's n-gram lengths, longest first
    cdef int n_orders
    cdef int max_word
    cdef bint has_model
    cdef object whole_get  # the model's weights.get: the whole padded word is a feature
    cdef list counts  # features of a word of each length
    cdef object root_iter
    cdef frozenset address_words
    cdef frozenset short_words
    cdef frozenset root_edges
    cdef object info_class  # a NamedTuple

    def __cinit__(self):
        self.keys = NULL
        self.values = NULL

    def __dealloc__(self):
        PyMem_Free(self.keys)
        PyMem_Free(self.values)

    def __init__(self, model, root_iter, info_class, *, address_words, short_words,
                 root_edges, max_word):
        self.root_iter = root_iter
        if not (isinstance(info_class, type) and issubclass(info_class, tuple)
                and info_class.__itemsize__ == tuple.__itemsize__
                and info_class.__basicsize__ == tuple.__basicsize__):
            raise TypeError("the token-info class must be a tuple without fields of its own")
        self.info_class = info_class
        self.address_words = frozenset(address_words)
        self.short_words = frozenset(short_words)
        self.root_edges = frozenset(root_edges)
        self.max_word = max_word
        self.has_model = model is not None
        if not self.has_model:
            self.mask = 0
            return
        orders = sorted(set(model.orders), reverse=True)
        if not orders or max(orders) > MAX_GRAM or min(orders) < 1:
            raise ValueError("n-gram lengths the compiled reader cannot pack")
        self.n_orders = len(orders)
        for k, n in enumerate(orders):
            self.orders[k] = n
        self.counts = list(model._counts)
        weights = model.weights
        self.whole_get = weights.get
        size = 1024
        while size < 2 * len(weights):
            size *= 2
        self.mask = size - 1
        self.keys = <uint64_t*> PyMem_Malloc(size * sizeof(uint64_t))
        self.values = <double*> PyMem_Malloc(size * sizeof(double))
        if self.keys == NULL or self.values == NULL:
            raise MemoryError()
        for slot in range(size):
            self.keys[slot] = 0
        for key, weight in weights.items():
            if type(weight) is not float:
                raise TypeError("the compiled reader adds float weights only")
            if len(key) in orders or (3 <= len(key) <= MAX_GRAM and key[0] == " " == key[-1]):
                self._put(key, weight)  # an n-gram, or a short word as a whole (" кот ")

    cdef void _put(self, str key, double weight):
        cdef uint64_t packed = 0
        cdef int c
        cdef unsigned int ch
        cdef Py_ssize_t i, slot
        for i in range(len(key)):
            ch = key[i]
            c = _code(ch)
            if c == 0:
                return  # a character no plain word has: never one of its features
            packed |= (<uint64_t> c) << (6 * i)
        slot = _mix(packed) & self.mask
        while self.keys[slot] != 0 and self.keys[slot] != packed:
            slot = (slot + 1) & self.mask
        self.keys[slot] = packed
        self.values[slot] = weight

    cdef inline bint _get(self, uint64_t packed, double* out) noexcept:
        cdef Py_ssize_t slot = _mix(packed) & self.mask
        while self.keys[slot] != 0:
            if self.keys[slot] == packed:
                out[0] = self.values[slot]
                return True
            slot = (slot + 1) & self.mask
        return False

    cdef bint _whole_word(self, Py_UCS4* padded, int* codes, int size, double* out) except -1:
        """The weight of the whole padded word as a feature, if the model has one: packed
        like an n-gram when it is short enough, else looked up in the model's dict."""
        cdef uint64_t packed = 0
        cdef int i
        if size <= MAX_GRAM:
            for i in range(size):
                packed |= (<uint64_t> codes[i]) << (6 * i)
            return self._get(packed, out)
        value = self.whole_get(PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, padded, size))
        if value is None:
            return False
        out[0] = value
        return True

    cdef double _weight(self, Py_UCS4* word, int length) except? -1.0:
        """The sum of the word's feature weights, as the automaton reports them."""
        cdef Py_UCS4 padded[MAX_CHARS + 2]
        cdef int codes[MAX_CHARS + 2]
        cdef int size = length + 2
        cdef int e, k, n, i
        cdef bint whole = True
        cdef uint64_t packed
        cdef double total = 0.0, comp = 0.0
        cdef double found
        padded[0] = 0x20
        codes[0] = 1
        for i in range(length):
            padded[i + 1] = word[i]
            codes[i + 1] = _code(<unsigned int> word[i])
        padded[size - 1] = 0x20
        codes[size - 1] = 1
        for k in range(self.n_orders):
            if self.orders[k] == size:
                whole = False
        for e in range(size):
            if e == size - 1 and whole and self._whole_word(padded, codes, size, &found):
                _add(&total, &comp, found)
            for k in range(self.n_orders):
                n = self.orders[k]
                if n > e + 1:
                    continue
                packed = 0
                for i in range(n):
                    packed |= (<uint64_t> codes[e - n + 1 + i]) << (6 * i)
                if self._get(packed, &found):
                    _add(&total, &comp, found)
        return _summed(total, comp)

    def totals(self, list infos):
        """``sum()`` of the tokens' model weights and ``sum()`` of their feature counts."""
        cdef double total = 0.0, comp = 0.0
        cdef Py_ssize_t hits = 0
        for info in infos:
            if not PyTuple_Check(info):
                raise TypeError("token infos are tuples")
            # The items by the tuple's own layout: indexing a NamedTuple calls __getitem__.
            _add(&total, &comp, <double> <object> PyTuple_GET_ITEM(info, WEIGHT_AT))
            hits += <Py_ssize_t> <object> PyTuple_GET_ITEM(info, HITS_AT)
        return _summed(total, comp), hits

    def known(self, list toks, dict frequent, dict cache):
        """Each token's analysis in ``frequent`` or else in ``cache``; None if in neither."""
        cdef Py_ssize_t i, n = len(toks)
        cdef list out = [None] * n
        for i in range(n):
            tok = toks[i]
            info = frequent.get(tok)
            if info is None:
                info = cache.get(tok)
            out[i] = info
        return out

    def codes(self, list infos):
        """``"".join(info.code for info in infos)``: each token's one-letter code."""
        cdef Py_ssize_t i, n = len(infos)
        cdef char* buf = <char*> PyMem_Malloc(n + 1)
        cdef str code
        if buf == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                info = infos[i]
                if not PyTuple_Check(info):
                    raise TypeError("token infos are tuples")
                code = <str> PyTuple_GET_ITEM(info, CODE_AT)
                if len(code) != 1 or code[0] > 0x7F:
                    raise ValueError(f"not a one-letter code: {code!r}")
                buf[i] = <char> code[0]
            return PyUnicode_DecodeASCII(buf, n, NULL)
        finally:
            PyMem_Free(buf)

    def read(self, list raws):
        """For each token: its analysis if it is a plain word without a root; False if it
        is plain and holds a root (the full analysis decides); None if it is not plain."""
        cdef Py_ssize_t count = len(raws)
        cdef list out = [None] * count
        cdef list mains = [None] * count
        cdef list doubled = []
        cdef Py_UCS4 buf[MAX_CHARS]
        cdef unsigned int ch, low, prev, prev2
        cdef Py_ssize_t i, j, n
        cdef int letters, digits
        cdef bint changed, run2
        cdef str raw
        for j in range(count):
            raw = raws[j]
            n = len(raw)
            if n == 0 or n > MAX_CHARS:
                continue
            letters = digits = 0
            changed = run2 = False
            prev = prev2 = 0
            for i in range(n):
                ch = raw[i]
                if 0x430 <= ch <= 0x44F or ch == 0x451:
                    low = ch
                    letters += 1
                elif 0x410 <= ch <= 0x42F:
                    low = ch + 0x20
                    letters += 1
                elif ch == 0x401:
                    low = 0x451
                    letters += 1
                elif 0x30 <= ch <= 0x39:
                    low = ch
                    digits += 1
                else:
                    break
                if low == prev and low == prev2:
                    break  # three equal letters: collapsing them is the full path's
                prev2 = prev
                prev = low
                if low == 0x451:
                    low = 0x435  # ё is read as е
                if i > 0 and <unsigned int> buf[i - 1] == low:
                    run2 = True
                if low != ch:
                    changed = True
                buf[i] = <Py_UCS4> low
            else:
                if letters and digits:
                    continue
                main = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n) if changed \
                    else raw
                mains[j] = main
                out[j] = True  # plain; rooted or not is found below
                if run2:
                    doubled.append(j)
        self._mark_rooted(out, mains, doubled)
        for j in range(count):
            if out[j] is True:
                out[j] = self._clean(raws[j], mains[j])
        return out

    cdef void _mark_rooted(self, list out, list mains, list doubled) except *:
        """Plain words holding a lexicon root (or whose doubled letters, collapsed, hold
        one) become False: one automaton scan over all the words, spaces around each."""
        cdef list plain = [j for j in range(len(out)) if out[j] is True]
        if not plain:
            return
        cdef list starts = []
        cdef Py_ssize_t pos = 1
        cdef Py_ssize_t lo, hi, mid, end
        for j in plain:
            starts.append(pos)
            pos += len(mains[j]) + 2
        joined = " " + "  ".join([mains[j] for j in plain]) + " "
        for end, _ in self.root_iter(joined):
            lo, hi = 0, len(starts)
            while lo < hi:  # the last word starting at or before end
                mid = (lo + hi) // 2
                if <Py_ssize_t> starts[mid] <= end:
                    lo = mid + 1
                else:
                    hi = mid
            out[plain[lo - 1]] = False
        for j in doubled:
            if out[j] is True and self._candidate(_collapse(mains[j])):
                out[j] = False

    cdef bint _candidate(self, str word) except -1:
        for _ in self.root_iter(" " + word + " "):
            return True
        return False

    cdef object _clean(self, str raw, str main):
        cdef Py_ssize_t n = len(main)
        cdef unsigned int first = raw[0]
        cdef bint lower = 0x430 <= first <= 0x44F or first == 0x451
        cdef bint upper = 0x410 <= first <= 0x42F or first == 0x401
        cdef bint capitalised
        cdef unsigned int second
        cdef Py_UCS4 buf[MAX_CHARS]
        cdef int length, i
        words = (main,)
        if lower:
            read = True
        else:
            capitalised = False
            if upper:
                if n < 2:
                    capitalised = True
                else:
                    second = raw[1]
                    capitalised = not (0x410 <= second <= 0x42F or second == 0x401)
            read = not capitalised or main in self.address_words
        if read and self.has_model:
            length = n if n < self.max_word else self.max_word
            for i in range(length):
                buf[i] = main[i]
            weight = self._weight(buf, length)
            count = self.counts[length]
            model_words = words
        elif read:
            weight, count = 0.0, 0
            model_words = words
        else:
            weight, count = 0.0, 0
            model_words = ()
        if n > 3:
            single, code = "", "."
        elif n == 1 and (lower or upper):
            single, code = main, "s"
        elif n == 1:
            single, code = "", "."
        elif not (lower or upper) or main in self.short_words:
            single, code = "", "w"  # digits, or one of the short everyday words
        elif main in self.root_edges:
            single, code = "", "f"
        else:
            single, code = "", "w"
        return plainread_tuple_of(self.info_class, (words, model_words, None, weight, count,
                                                    single, False, code))


cdef str _collapse(str word):
    """Every run of equal letters collapsed to one."""
    cdef Py_UCS4 buf[MAX_CHARS]
    cdef Py_ssize_t i, n = 0
    cdef unsigned int ch, prev = 0
    for i in range(len(word)):
        ch = word[i]
        if ch != prev:
            buf[n] = <Py_UCS4> ch
            n += 1
        prev = ch
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n)
