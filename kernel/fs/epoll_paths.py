"""fs/eventpoll.c's reverse_path_check(): how many epolls a file's
wake-ups may travel through.

When epoll_ctl(EPOLL_CTL_ADD) builds a chain of epolls (the target is an
epoll, or the epoll added to is itself watched), 4.14 walks from each
ordinary file the new item can reach upward through the epolls that watch
it: a path deeper than EP_MAX_NESTS, or more paths of one length than
path_limits allows, makes ep_insert() fail with EINVAL and take the item
back out.  (Loops and depth below the target are ep_loop_check()'s ELOOP,
in eventpoll.py.)
"""

EP_MAX_NESTS = 4
# path_limits[]: at most this many wake-up paths of each length (1..5).
PATH_LIMITS = (1000, 500, 100, 50, 10)


def _watchers(file):
    """The epolls watching file (its f_ep_links)."""
    return [item.ep for item in (file.f_ep_links or ())]


def _reverse_path_check_proc(file, nests, counts):
    """reverse_path_check_proc() at nesting nests: True if a path is too
    deep (ep_call_nested() refuses past EP_MAX_NESTS) or too many paths of
    one length end at top-level epolls (path_count_inc())."""
    for ep in _watchers(file):
        if not ep.f_ep_links:
            if nests:
                counts[nests] += 1
                if counts[nests] > PATH_LIMITS[nests]:
                    return True
        elif nests + 1 > EP_MAX_NESTS or _reverse_path_check_proc(ep, nests + 1, counts):
            return True
    return False


def tfile_check_list(target, is_file_epoll):
    """The ordinary files reverse_path_check() starts from: the target
    itself, or the ones ep_loop_check_proc() meets below an epoll target."""
    if not is_file_epoll(target):
        return [target]
    out, seen, stack = [], set(), [target]
    while stack:
        ep = stack.pop()
        if id(ep) in seen:
            continue
        seen.add(id(ep))
        for item in ep.items.values():
            if is_file_epoll(item.file):
                stack.append(item.file)
            elif all(f is not item.file for f in out):
                out.append(item.file)
    return out


def reverse_path_check(files):
    """reverse_path_check(): True (EINVAL) if any of files has a wake-up
    path the limits refuse; each file's path counts start from zero."""
    for file in files:
        if _reverse_path_check_proc(file, 0, [0] * len(PATH_LIMITS)):
            return True
    return False
