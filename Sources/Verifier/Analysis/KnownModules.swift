/// Top-level module names an `import` may name without the folder shipping them: Python's
/// standard library (`sys.stdlib_module_names` of Python 3.12, private names left out) and the
/// third-party packages the challenge's submissions install (PyTorch, NumPy, SentencePiece,
/// kernels, compressors). Any other module must be a file or package in the submission's folder.
enum KnownModules {
    static func contains(_ name: String) -> Bool {
        name.hasPrefix("_") || standardLibrary.contains(name) || thirdParty.contains(name)
    }

    static let standardLibrary: Set<String> = [
        "abc", "aifc", "antigravity", "argparse", "array", "ast", "asyncio", "atexit", "audioop", "base64", "bdb",
        "binascii", "bisect", "builtins", "bz2", "cProfile", "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd",
        "code", "codecs", "codeop", "collections", "colorsys", "compileall", "concurrent", "configparser",
        "contextlib", "contextvars", "copy", "copyreg", "crypt", "csv", "ctypes", "curses", "dataclasses", "datetime",
        "dbm", "decimal", "difflib", "dis", "doctest", "email", "encodings", "ensurepip", "enum", "errno",
        "faulthandler", "fcntl", "filecmp", "fileinput", "fnmatch", "fractions", "ftplib", "functools", "gc",
        "genericpath", "getopt", "getpass", "gettext", "glob", "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac",
        "html", "http", "idlelib", "imaplib", "imghdr", "importlib", "inspect", "io", "ipaddress", "itertools",
        "json", "keyword", "lib2to3", "linecache", "locale", "logging", "lzma", "mailbox", "mailcap", "marshal",
        "math", "mimetypes", "mmap", "modulefinder", "msilib", "msvcrt", "multiprocessing", "netrc", "nis", "nntplib",
        "nt", "ntpath", "nturl2path", "numbers", "opcode", "operator", "optparse", "os", "ossaudiodev", "pathlib",
        "pdb", "pickle", "pickletools", "pipes", "pkgutil", "platform", "plistlib", "poplib", "posix", "posixpath",
        "pprint", "profile", "pstats", "pty", "pwd", "py_compile", "pyclbr", "pydoc", "pydoc_data", "pyexpat",
        "queue", "quopri", "random", "re", "readline", "reprlib", "resource", "rlcompleter", "runpy", "sched",
        "secrets", "select", "selectors", "shelve", "shlex", "shutil", "signal", "site", "smtplib", "sndhdr",
        "socket", "socketserver", "spwd", "sqlite3", "sre_compile", "sre_constants", "sre_parse", "ssl", "stat",
        "statistics", "string", "stringprep", "struct", "subprocess", "sunau", "symtable", "sys", "sysconfig",
        "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile", "termios", "textwrap", "this", "threading", "time",
        "timeit", "tkinter", "token", "tokenize", "tomllib", "trace", "traceback", "tracemalloc", "tty", "turtle",
        "turtledemo", "types", "typing", "unicodedata", "unittest", "urllib", "uu", "uuid", "venv", "warnings",
        "wave", "weakref", "webbrowser", "winreg", "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp",
        "zipfile", "zipimport", "zlib", "zoneinfo",
    ]

    static let thirdParty: Set<String> = [
        "torch", "torchvision", "torchaudio", "numpy", "sentencepiece", "tiktoken", "tokenizers", "transformers",
        "datasets", "huggingface_hub", "safetensors", "accelerate", "einops", "triton", "flash_attn",
        "flash_attn_interface", "flash_attn_3", "xformers", "apex", "mamba_ssm", "causal_conv1d", "liger_kernel",
        "torchao", "bitsandbytes", "deepspeed", "kernels", "zstandard", "zstd", "brotli", "lz4", "pyzstd",
        "scipy", "sklearn", "pandas", "matplotlib", "seaborn", "tqdm", "wandb", "tensorboard", "yaml", "regex",
        "psutil", "pynvml", "nvidia", "cuda", "cupy", "numba", "jax", "jaxlib", "flax", "optax", "mlx",
        "pyarrow", "packaging", "typing_extensions", "setuptools", "requests", "httpx", "aiohttp", "urllib3",
        "cffi", "pybind11", "thunderkittens", "fla", "natten", "opt_einsum", "rich", "click", "fire",
        "hydra", "omegaconf", "pydantic", "zmq", "ninja", "tvm", "quack", "cutlass", "cute", "hf_transfer",
        "sympy", "networkx", "PIL", "cv2", "h5py", "zarr", "blobfile", "google", "boto3", "modal",
        "mup", "schedulefree", "heavyball", "dion", "muon", "lion_pytorch", "torchmetrics", "lightning",
        "pytorch_lightning", "galore_torch", "bitblas", "marlin", "gptqmodel", "auto_gptq",
        "optimum", "peft", "trl", "vllm", "sglang", "nltk", "spacy", "ftfy", "unidecode", "constriction",
        "torchac", "arithmetic_compressor", "dahuffman", "zopfli", "lzham", "xxhash", "mmh3", "pytest",
        "selective_scan_cuda", "causal_conv1d_cuda", "python_minifier", "tensorrt_llm", "tokenmonster",
        "transformer_engine", "mpl_toolkits",
    ]
}
