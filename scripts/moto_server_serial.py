"""moto_server, serving one request at a time.

moto's DynamoDB is not thread-safe: TransactWriteItems backs up the whole table, and a
cancelled transaction restores that backup, wiping writes that other request threads made
meanwhile; conditional checks and writes are not atomic across threads either. moto_server
always runs threaded, so racing-writer tests see lost or doubled writes that real DynamoDB
never produces. Serving requests one by one gives DynamoDB's serializable behaviour.

Usage: python moto_server_serial.py -H 127.0.0.1 -p PORT   (the same arguments as moto_server)
"""
import sys

import moto.server

_run_simple = moto.server.run_simple


def _serial_run_simple(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)


moto.server.run_simple = _serial_run_simple

if __name__ == "__main__":
    moto.server.main(sys.argv[1:])
