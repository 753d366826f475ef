extension PythonParser {
    /// The front-end: parses with `ast.parse` and prints the trees in the compact binary form that
    /// ``PyTreeReader`` reads. It never executes, compiles to bytecode or imports the code it reads.
    ///
    /// Every tree is flattened, in preorder, into one stream of native 32-bit integers: a node is
    /// `8 + type index, line, endLine`, then one tagged value per field (tags below 8, see
    /// ``PyTreeReader``); strings are indices into one interned table. Appending integers to one
    /// list and writing it with `array.tobytes` costs about half of building nested lists and
    /// running `json.dumps` on them, and reading it back needs no text parsing.
    static let script = #"""
import ast, gc, json, os, sys
from array import array
sys.setrecursionlimit(10000)
# The trees are acyclic and freed at exit: cyclic GC passes over them only cost time.
gc.disable()
AST = ast.AST
Constant = ast.Constant
TYPES = {}
TYPE_NAMES = []
TYPE_FIELDS = []
STRINGS = {}
class TooDeep(Exception):
    pass
def type_of(cls):
    names = tuple(x for x in cls._fields if x not in ("ctx", "type_comment"))
    TYPES[cls] = entry = (len(TYPE_NAMES) + 8, names)
    TYPE_NAMES.append(cls.__name__)
    TYPE_FIELDS.append(names)
    return entry
def sid(s):
    i = STRINGS.get(s)
    if i is None:
        i = STRINGS[s] = len(STRINGS)
    return i
out = []
put = out.append
ext = out.extend
def conv(n, depth):
    if depth > 400:
        raise TooDeep()
    cls = n.__class__
    entry = TYPES.get(cls) or type_of(cls)
    d = n.__dict__
    ext((entry[0], d.get("lineno", 0), d.get("end_lineno") or 0))
    depth += 1
    for name in entry[1]:
        v = d.get(name)
        if v is None:
            put(0)
            continue
        t = v.__class__
        if t is list:
            if v and v[0].__class__ is str:
                ext((4, len(v)))
                ext([sid(x) for x in v])
            else:
                ext((2, len(v)))
                for x in v:
                    if x is None:
                        put(0)
                    else:
                        conv(x, depth)
        elif t is str:
            if cls is Constant:
                ext((6, 3, sid(v)))
            else:
                ext((3, sid(v)))
        elif cls is Constant and name == "value":
            if v is True or v is False:
                ext((6, 1, 1 if v else 0))
            elif t is int:
                ext((6, 2, sid(str(v))))
            elif t is float:
                ext((6, 4, sid(repr(v))))
            elif t is bytes:
                ext((6, 5, sid(v.decode("latin-1"))))
            else:
                ext((6, 6, sid(repr(v))))
        elif isinstance(v, AST):
            conv(v, depth)
        elif t is int:
            ext((5, v))
        else:
            put(0)
results = []
for index, item in enumerate(json.load(sys.stdin)):
    start = len(out)
    # Names the input being parsed, for a limit met while parsing it.
    sys.stderr.write("@pgverify-parsing %d\n" % index)
    sys.stderr.flush()
    try:
        if "path" in item:
            with open(item["path"], "rb") as fh: src = fh.read()
        else:
            src = item["source"]
        conv(ast.parse(src, filename=item["name"]), 0)
        results.extend((0, start, 0))
        continue
    except TooDeep:
        results.extend((1, 0, sid("syntax tree nested deeper than 400 levels (pgverify's limit)")))
    except SyntaxError as e:
        results.extend((1, e.lineno or 0, sid(str(e.msg))))
    except MemoryError:
        # The memory limit, not a property of the code: pgverify reports it as such.
        os._exit(75)
    except (ValueError, OSError, RecursionError) as e:
        results.extend((1, 0, sid(type(e).__name__ + ": " + str(e))))
    del out[start:]
types = []
for name, fields in zip(TYPE_NAMES, TYPE_FIELDS):
    types.append(sid(name))
    types.append(len(fields))
    types.extend(sid(f) for f in fields)
texts = [s.encode("utf-8", "surrogatepass") for s in STRINGS]
header = array("i", [0x50474153, len(texts), len(TYPE_NAMES), len(results) // 3, len(out)])
header.extend(len(t) for t in texts)
header.extend(types)
header.extend(results)
write = sys.stdout.buffer.write
write(header.tobytes())
write(b"".join(texts))
write(array("i", out).tobytes())
# Skip freeing a million objects one by one at exit.
sys.stdout.flush()
os._exit(0)
"""#
}
