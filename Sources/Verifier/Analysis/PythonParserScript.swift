extension PythonParser {
    /// The front-end: parses with `ast.parse` and prints the tree as compact JSON. It never
    /// executes, compiles to bytecode or imports the code it reads.
    static let script = #"""
import ast, gc, json, sys
sys.setrecursionlimit(10000)
# The trees are acyclic and freed at exit: cyclic GC passes over them only cost time.
gc.disable()
AST = ast.AST
SPECS = {}
KINDS = {}
def spec_of(cls):
    names = tuple(x for x in cls._fields if x not in ("ctx", "type_comment"))
    kinds = [None] * len(names)
    SPECS[cls] = (cls.__name__, names, kinds)
    KINDS[cls.__name__] = (names, kinds)
    return SPECS[cls]
class TooDeep(Exception):
    pass
def conv(n, depth=0):
    if depth > 400:
        raise TooDeep()
    cls = n.__class__
    spec = SPECS.get(cls) or spec_of(cls)
    d = n.__dict__
    out = [spec[0], d.get("lineno", 0), d.get("end_lineno") or 0]
    append = out.append
    kinds = spec[2]
    i = 0
    for name in spec[1]:
        v = d.get(name)
        if v is None:
            append(None)
        else:
            t = v.__class__
            if t is list:
                if v and v[0].__class__ is str:
                    kinds[i] = "S"; append(v)
                else:
                    kinds[i] = "l"; append([None if x is None else conv(x, depth + 1) for x in v])
            elif t is str:
                if cls is ast.Constant:
                    kinds[i] = "v"; append(["str", v])
                else:
                    kinds[i] = "s"; append(v)
            elif isinstance(v, AST):
                kinds[i] = "n"; append(conv(v, depth + 1))
            elif cls is ast.Constant and name == "value":
                kinds[i] = "v"; append(const(v))
            elif t is int:
                kinds[i] = "i"; append(v)
            else:
                append(None)
        i += 1
    return out
def const(v):
    if v is True or v is False: return ["bool", "1" if v else "0"]
    t = v.__class__
    if t is int: return ["int", str(v)]
    if t is float: return ["float", repr(v)]
    if t is bytes: return ["bytes", v.decode("latin-1")]
    return [t.__name__, repr(v)]
results = []
for item in json.load(sys.stdin):
    try:
        if "path" in item:
            with open(item["path"], "rb") as fh: src = fh.read()
        else:
            src = item["source"]
        results.append({"tree": conv(ast.parse(src, filename=item["name"]))})
    except TooDeep:
        results.append({"error": "syntax tree nested deeper than 400 levels (pgverify's limit)", "line": 0})
    except SyntaxError as e:
        results.append({"error": str(e.msg), "line": e.lineno or 0})
    except (ValueError, OSError, RecursionError, MemoryError) as e:
        results.append({"error": type(e).__name__ + ": " + str(e), "line": 0})
schema = {name: [[f, kinds[i] or "n"] for i, f in enumerate(names)] for name, (names, kinds) in KINDS.items()}
sys.stdout.write(json.dumps({"schema": schema, "results": results}, ensure_ascii=False, separators=(",", ":")))
# Skip freeing a million objects one by one at exit.
sys.stdout.flush()
import os
os._exit(0)
"""#
}
