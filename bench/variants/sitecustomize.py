"""Variants of `herken serve` for attributing its cost per call (bench/serve.py --also-serve); not part of herken.

A server started with ``PYTHONPATH=<abs path>/bench/variants`` loads this module at start-up and, by
the comma-separated words of ``HX``, patches itself:

- ``noint``: no deadline interceptor; ``nomax``: no bound on the calls at once; ``noaudit``: the
  audit log records nothing;
- ``const``: GetProfile answers a constant reply, through the access check, the audit and the
  interceptor; ``raw``: the same without any of herken's wrapping;
- ``dict``: the store's keyed reads are answered from a dict after the first read of a key (what a
  read costs under load, against the rest of the handler);
- ``ctypes``: the SQLite keyed reads go through the C library with ctypes, holding the GIL.

    python bench/serve.py --mode aio-email --drop DROP --skip-postgres --rounds 2 \
        --also-serve "PYTHONPATH=$PWD/bench/variants HX=const" --also-serve "PYTHONPATH=$PWD/bench/variants HX=dict"
"""
import os
flags = set(os.environ.get("HX", "").split(","))
if flags - {""}:
    import profile_api.bounds as b
    import profile_api.server as s
    if "noint" in flags or "nomax" in flags:
        orig = b.server_arguments
        def server_arguments(limits, *, share_port, aio):
            a = orig(limits, share_port=share_port, aio=aio)
            if "noint" in flags:
                a["interceptors"] = []
            if "nomax" in flags:
                a["maximum_concurrent_rpcs"] = None
            return a
        b.server_arguments = server_arguments
        s.server_arguments = server_arguments
    if "noaudit" in flags:
        import profile_api.store.audit as au
        au.AuditLog.record = lambda self, entry: None
    if "const" in flags:
        import profile_api.service as sv
        from profile_api.messages import profile_reply_bytes
        reply = profile_reply_bytes(b"\x0a\x05C0001")
        def GetProfile(self, request, context):
            return reply
        sv.ProfileServicer.GetProfile = sv.rpc(GetProfile)
    if "raw" in flags:
        import profile_api.service as sv
        from profile_api.messages import profile_reply_bytes
        reply = profile_reply_bytes(b"\x0a\x05C0001")
        sv.ProfileServicer.GetProfile = lambda self, request, context: reply
if "dict" in flags:
    import profile_api.store.read as rd
    cache = {}
    orig_rows = rd.ThreadCursors.read_rows
    def read_rows(self, read, key):
        k = (read.sql, key)
        got = cache.get(k)
        if got is None:
            got = cache[k] = orig_rows(self, read, key)
        return got
    rd.ThreadCursors.read_rows = read_rows
if "ctypes" in flags:
    import ctypes, threading
    import profile_api.store.read as rd
    lib = ctypes.PyDLL("libsqlite3.so.0")
    c_p = ctypes.c_void_p
    lib.sqlite3_open_v2.argtypes = [ctypes.c_char_p, ctypes.POINTER(c_p), ctypes.c_int, ctypes.c_char_p]
    lib.sqlite3_prepare_v2.argtypes = [c_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(c_p), c_p]
    lib.sqlite3_bind_text.argtypes = [c_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, c_p]
    lib.sqlite3_step.argtypes = [c_p]
    lib.sqlite3_reset.argtypes = [c_p]
    lib.sqlite3_column_count.argtypes = [c_p]
    lib.sqlite3_column_type.argtypes = [c_p, ctypes.c_int]
    lib.sqlite3_column_blob.argtypes = [c_p, ctypes.c_int]; lib.sqlite3_column_blob.restype = c_p
    lib.sqlite3_column_bytes.argtypes = [c_p, ctypes.c_int]
    lib.sqlite3_exec.argtypes = [c_p, ctypes.c_char_p, c_p, c_p, c_p]
    TRANSIENT = c_p(-1)
    local = threading.local()
    orig = rd._Kept.read_rows
    string_at = ctypes.string_at
    def read_rows(self, read, key):
        if self.postgresql:
            return orig(self, read, key)
        st = getattr(local, "st", None)
        if st is None:
            path = self.connection.dbapi_connection.execute("PRAGMA database_list").fetchall()[0][2]
            db = c_p()
            assert lib.sqlite3_open_v2(path.encode(), ctypes.byref(db), 1, None) == 0
            lib.sqlite3_exec(db, b"PRAGMA mmap_size = 1073741824", None, None, None)
            st = local.st = (db, {})
        db, stmts = st
        stmt = stmts.get(read.sql)
        if stmt is None:
            stmt = c_p()
            assert lib.sqlite3_prepare_v2(db, read.sql.encode(), -1, ctypes.byref(stmt), None) == 0
            stmts[read.sql] = stmt
        k = key.encode()
        lib.sqlite3_bind_text(stmt, 1, k, len(k), TRANSIENT)
        rows = []
        n = lib.sqlite3_column_count(stmt)
        step, ctype, blob, nbytes = lib.sqlite3_step, lib.sqlite3_column_type, lib.sqlite3_column_blob, lib.sqlite3_column_bytes
        while step(stmt) == 100:
            row = []
            for i in range(n):
                t = ctype(stmt, i)
                if t == 5:
                    row.append(None)
                else:
                    b = string_at(blob(stmt, i), nbytes(stmt, i))
                    row.append(b.decode() if t == 3 else b)
            rows.append(tuple(row))
        lib.sqlite3_reset(stmt)
        return rows
    rd._Kept.read_rows = read_rows
