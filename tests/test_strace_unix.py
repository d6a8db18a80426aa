"""strace -yy on an AF_UNIX stream connection, before and after accept()
(userland/src/strace_more.c's `unix`), compared with the real strace.

Linux makes the server's end at connect() (unix_stream_connect(): the
embryo sock queued on the listener, and the client's unix_peer set at
once), but the embryo has no struct socket, hence no inode, until accept()
grafts it onto the new one: sock_i_ino() is 0 for it, unix_diag reports
peer 0 and strace prints the client as UNIX:[ino] until then, UNIX:[ino->
peer] after.  The board links the two board sockets at accept(), and the
peer's inode is the host socket's the accept made: the same trace.
"""

import re

import test_strace as ts

OPTIONS = ["-yy", "-e", "trace=write,accept4,read,close"]


def test_unix_peer_shown_once_accepted(tmp_path):
    host, board = ts._compare(OPTIONS, ["unix"], tmp_path, ts.MORE)
    assert board == host
    assert 'write(4<UNIX:[INO]>, "x", 1) = 1' in board
    assert 'write(4<UNIX:[INO->INO]>, "y", 1) = 1' in board
    # on the board, the two ends name each other
    lines = ts.from_marker(ts.run_board(OPTIONS, ["unix"], tmp_path, ts.MORE))
    accept = next(line for line in lines if line.startswith("accept4("))
    server, client = re.search(r"= 5<UNIX:\[(\d+)->(\d+),\"strace-unix\.sock\"\]>$",
                               accept).groups()
    assert 'write(4<UNIX:[%s->%s]>, "y", 1) = 1' % (client, server) in lines
    assert 'write(4<UNIX:[%s]>, "x", 1) = 1' % client in lines
