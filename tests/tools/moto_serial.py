"""moto_serial.py — moto's S3 served one request at a time.

    python3 tests/tools/moto_serial.py HOST PORT

moto_server answers on many threads, and its If-None-Match check and the
store that follows are not one atomic step, so two concurrent conditional
PUTs of one key can both succeed there.  Served by a single thread, every
request runs to its end before the next starts: put-if-absent is then as
atomic as S3's, which the concurrent-writer test needs.
"""
import sys

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app),
           threaded=False, use_reloader=False, use_debugger=False)
