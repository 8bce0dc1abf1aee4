"""A small stand-in for the runqy-python SDK (`pip install runqy-python`), so this example and
runcue's tests run with nothing from PyPI. Same worker API: `@task`, `@load`, `run()`,
`run_once()`; a handler written for runqy imports this module unchanged.

The protocol, JSON lines over stdin/stdout:
  1. `@load` runs once, then the worker writes {"status": "ready"}.
  2. Each stdin line is a task: {"task_id": "...", "payload": {...}}.
  3. Each task gets one stdout line: {"task_id", "result", "error": str | None, "retry": bool}.

Where it goes beyond the real SDK (both are harmless to a runqy-worker):
  - a failed `@load` also writes {"status": "error", "error": "..."} before the worker crashes
    with the traceback (the real SDK only crashes);
  - an exception with a true `retry` attribute is answered with "retry": true, and its
    traceback goes to stderr (runcue shows it with the failed unit);
  - a result that is not JSON fails that task instead of crashing the worker.
"""

import json
import sys
import traceback

__all__ = ["task", "load", "run", "run_once"]

_handler = None
_loader = None


def task(func):
    """Registers the handler: `handler(payload)`, or `handler(payload, ctx)` when `@load` gave a ctx."""
    global _handler
    _handler = func
    return func


def load(func):
    """Registers a function run once before the ready line; its return value is the handler's ctx."""
    global _loader
    _loader = func
    return func


def _send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _start():
    """Loads (once) and says ready; returns the call that handles one payload."""
    if _handler is None:
        raise RuntimeError("No task handler registered. Use @task decorator.")
    ctx = None
    if _loader is not None:
        try:
            ctx = _loader()
        except BaseException as error:
            _send({"status": "error", "error": str(error) or type(error).__name__})
            raise
    _send({"status": "ready"})
    handler = _handler
    # As in runqy: a load that returned None means the handler takes the payload alone.
    if ctx is None:
        return handler
    return lambda payload: handler(payload, ctx)


def _answer(line, handle):
    task_id = "unknown"
    try:
        request = json.loads(line)
        task_id = request.get("task_id", "unknown")
        result = handle(request.get("payload", {}))
        return json.dumps({"task_id": task_id, "result": result, "error": None, "retry": False})
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        retry = getattr(error, "retry", False) is True
        return json.dumps({"task_id": task_id, "result": None, "error": str(error) or type(error).__name__, "retry": retry})


def _handle_line(line, handle):
    sys.stdout.write(_answer(line, handle) + "\n")
    sys.stdout.flush()


def run():
    """Loads, says ready, then answers every task line until stdin closes."""
    handle = _start()
    for line in sys.stdin:
        line = line.strip()
        if line:
            _handle_line(line, handle)


def run_once():
    """Loads, says ready, answers one task line, and returns (the worker then exits)."""
    handle = _start()
    line = sys.stdin.readline().strip()
    if line:
        _handle_line(line, handle)
