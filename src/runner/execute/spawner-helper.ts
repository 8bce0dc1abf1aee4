/**
 * The spawner helper's source, run as `python3 -I -S -c SOURCE GRACE_MS TMPDIR` (see spawner.ts).
 * A small long-lived process starts every command, so runcue does not fork its own large process
 * per unit. Python, not sh: `os.posix_spawn` starts a command in its own session (setsid) with its
 * signals reset and its output redirected, which sh cannot, and it starts in tens of milliseconds.
 *
 * Requests on stdin: `LEN\n` then LEN bytes of NUL-separated fields: id, cwd, argc, argv..., then
 * changes to the environment of the previous command (`NAME=value` sets, `NAME` alone unsets). Reports on stdout, one line each: `r` (ready), `s ID PID` (started; the
 * pid is its process group), `e ID ERRNO` (could not start), `x ID CODE SIGNAL LEN LINGERS\n` and LEN bytes,
 * the tail of its output (stdout and stderr interleaved, from a file in memory, memfd, or else an
 * unlinked temp file); LINGERS is 1
 * when its process group still had members as it was reaped (0: the group is gone for good).
 * On stdin EOF (runcue exited, whatever the way) every group it started gets SIGTERM, then
 * SIGKILL after the grace period, and it exits.
 */
export const SPAWNER_SOURCE = String.raw`
import os, signal, selectors, sys, time
grace = int(sys.argv[1]) / 1000.0
tmp = sys.argv[2]
TAIL = 32768
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
DEFAULT = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP) and s < signal.SIGRTMIN]
rd, wr = os.pipe()
os.set_blocking(rd, False)
os.set_blocking(wr, False)
signal.set_wakeup_fd(wr)
signal.signal(signal.SIGCHLD, lambda *a: None)
running = {}
groups = set()
env = {}
out = sys.stdout.buffer
devnull = os.open(os.devnull, os.O_RDONLY)

dead = [False]

def report(data):
    if dead[0]:
        return
    try:
        out.write(data)
        out.flush()
    except OSError:
        dead[0] = True

def resolve(file, search):
    if '/' in file:
        return file
    found = None
    for d in search.split(':'):
        p = os.path.join(d or '.', file)
        if os.path.isfile(p):
            if os.access(p, os.X_OK):
                return p
            found = found or p
    if found:
        return found
    raise OSError(2, 'not found')

serial = [0]
spare = [-1]

def output_file():
    # Made after the previous command started, while commands run: not between a command's
    # request and its start (a file costs ~0.3 ms of system time on a busy ext4).
    fd, spare[0] = spare[0], -1
    return fd if fd >= 0 else new_output_file()

memfd = [hasattr(os, 'memfd_create')]
tmpfile = [hasattr(os, 'O_TMPFILE')]

def new_output_file():
    # A file in memory (memfd, Linux): no inode on the disk's file system. An O_TMPFILE or named
    # file on ext4 cost ~0.4 ms of system time per command in a clean build, the kernel searching
    # for a free inode among the ones just deleted (the previous build's outputs).
    if memfd[0]:
        try:
            return os.memfd_create('runcue-out', os.MFD_CLOEXEC)
        except OSError:
            memfd[0] = False
    # A file without a name (O_TMPFILE): one call, where a named file is made, then unlinked.
    if tmpfile[0]:
        try:
            return os.open(tmp, os.O_RDWR | os.O_TMPFILE | os.O_EXCL, 0o600)
        except OSError:
            # Not on this file system (or TMPDIR unusable): the named way from now on.
            tmpfile[0] = False
    while True:
        serial[0] += 1
        name = os.path.join(tmp, 'runcue-out-%d-%d' % (os.getpid(), serial[0]))
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.unlink(name)
        return fd

def start(fields):
    uid = fields[0].decode()
    cwd = fields[1]
    argc = int(fields[2])
    argv = fields[3:3 + argc]
    for entry in fields[3 + argc:]:
        k, eq, v = entry.partition(b'=')
        if eq:
            env[k] = v
        else:
            env.pop(k, None)
    fd = -1
    try:
        # Every time: a directory removed and made again at the same path is another directory.
        os.chdir(cwd)
        path = resolve(os.fsdecode(argv[0]), os.fsdecode(env[b'PATH']) if b'PATH' in env else os.defpath)
        fd = output_file()
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)]
        try:
            pid = os.posix_spawn(path, argv, env, file_actions=actions, setsid=True, setsigdef=DEFAULT, setsigmask=())
        except OSError as e:
            # A script without #! line: sh runs it, as execvp (and so a direct fork) does.
            if e.errno != 8:
                raise
            pid = os.posix_spawn('/bin/sh', [b'sh', os.fsencode(path)] + argv[1:], env, file_actions=actions, setsid=True, setsigdef=DEFAULT, setsigmask=())
    except OSError as e:
        if fd >= 0:
            os.close(fd)
        report(b'e %s %d\n' % (uid.encode(), e.errno or 0))
        return
    running[pid] = (uid, fd)
    groups.add(pid)
    report(b's %s %d\n' % (uid.encode(), pid))
    if spare[0] < 0:
        try:
            spare[0] = new_output_file()
        except OSError:
            pass

def reap():
    while running:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        entry = running.pop(pid, None)
        if entry is None:
            continue
        uid, fd = entry
        size = os.fstat(fd).st_size
        tail = os.pread(fd, TAIL, max(0, size - TAIL)) if size else b''
        os.close(fd)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        report(b'x %s %d %d %d %d\n' % (uid.encode(), code, sig, len(tail), 1 if alive(pid) else 0) + tail)
    # A group is forgotten as soon as it is empty: its id may then be reused by anyone's new
    # group (pid_max is often 32768), which stop_all must not signal when runcue exits.
    for g in [g for g in groups if g not in running and not alive(g)]:
        groups.discard(g)

def alive(g):
    try:
        os.killpg(g, 0)
        return True
    except OSError:
        return False

def stop_all():
    live = [g for g in groups if alive(g)]
    for g in live:
        try:
            os.killpg(g, signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + grace
    while live and time.monotonic() < end:
        reap()
        time.sleep(0.05)
        reap()
        live = [g for g in live if alive(g) and (g in running or not zombies_only(g))]
    for g in live:
        try:
            os.killpg(g, signal.SIGKILL)
        except OSError:
            pass

def zombies_only(g):
    try:
        names = os.listdir('/proc')
    except OSError:
        return False
    for n in names:
        if not n.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % n, 'rb') as f:
                fields = f.read().rsplit(b')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == g and fields[0] != b'Z':
            return False
    return True

def main():
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    sel.register(rd, selectors.EVENT_READ)
    buf = b''
    report(b'r\n')
    while True:
        for key, _ in sel.select():
            if key.fd == rd:
                try:
                    os.read(rd, 4096)
                except BlockingIOError:
                    pass
                reap()
                continue
            chunk = os.read(0, 1 << 16)
            if not chunk or dead[0]:
                stop_all()
                return
            buf += chunk
            while True:
                nl = buf.find(b'\n')
                if nl < 0:
                    break
                size = int(buf[:nl])
                if len(buf) < nl + 1 + size:
                    break
                start(buf[nl + 1:nl + 1 + size].split(b'\0'))
                buf = buf[nl + 1 + size:]
        reap()

main()
`;
