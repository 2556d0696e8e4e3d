"""The full stack on one machine: gunicorn, a Celery worker and beat (the Procfile) against PostgreSQL and
Redis. `make stack` runs it with the project's Python (.venv/bin/python scripts/stack.py), and so does
the smoke test (tests/integration/test_stack.py), so the two cannot drift apart.

1. DATABASE_URL and REDIS_URL must be set, and PostgreSQL and Redis must answer
   (`manage.py readiness --services`); otherwise it says which one and stops.
2. migrate, load_reference_data, collectstatic.
3. Every process of the Procfile runs with the directory of this Python first on PATH, so `gunicorn` and
   `celery` are the project's own whatever the caller's PATH holds (the Docker image does the same with
   ENV PATH). The environment is the caller's, unchanged otherwise; GUNICORN_CMD_ARGS defaults to
   `--bind 127.0.0.1:8000`.
4. Each process's output is shown prefixed with its name. If a process exits, the others are stopped and
   the exit status is 1. SIGTERM (or Ctrl-C) stops the stack: the main process of each gets SIGTERM, so
   gunicorn finishes the requests in flight, the worker finishes its running tasks (a task that outlasts
   STOP_TIMEOUT is handed back by the broker) and beat saves its schedule; the exit status is 0 only
   when every process exited with 0.

Why not honcho: it signals each process group, which kills Celery's pool children in the middle of a
task; it kills everything 5 s after the first process exits; it reads a .env file over the caller's
environment; and its shell wrapper hides the exit codes of the processes.

Usage: python scripts/stack.py [--procfile FILE]
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# gunicorn's graceful timeout is 30 s; a rendering's hard time limit is 90 s (settings.py).
STOP_TIMEOUT = 120
SELF = "stack"


def read_procfile(path: Path) -> dict[str, str]:
    processes = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        processes[name.strip()] = command.strip()
    return processes


def stack_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["GUNICORN_CMD_ARGS"] = env.get("GUNICORN_CMD_ARGS") or "--bind 127.0.0.1:8000"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Output:
    """One line at a time from several threads, each prefixed with its process's name."""

    def __init__(self, width: int):
        self.width, self.lock = width, threading.Lock()

    def line(self, name: str, text: str):
        with self.lock:
            sys.stdout.write(f"{name:<{self.width}} | {text.rstrip()}\n")
            sys.stdout.flush()


def prepare(env: dict[str, str], say) -> bool:
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
    if missing:
        say(
            f"{' and '.join(missing)} must be set (see .env.example): the stack runs on PostgreSQL and Redis."
        )
        return False
    manage = [sys.executable, "manage.py"]
    # libpq's own connect timeout, so that a host that drops packets is reported instead of waited for.
    check = subprocess.run(
        [*manage, "readiness", "--services"],
        cwd=ROOT,
        env={**env, "PGCONNECT_TIMEOUT": env.get("PGCONNECT_TIMEOUT", "5")},
        capture_output=True,
        text=True,
    )
    for line in (check.stdout + check.stderr).splitlines():
        if line.startswith(("database:", "broker:")):
            say(line)
    if check.returncode != 0:
        say(
            "PostgreSQL (DATABASE_URL) or Redis (REDIS_URL) does not answer, see above: start it or correct "
            "the variable, then run make stack again."
        )
        return False
    for step in (["migrate", "--no-input"], ["load_reference_data"], ["collectstatic", "--no-input", "-v0"]):
        say("manage.py " + " ".join(step))
        if subprocess.run([*manage, *step], cwd=ROOT, env=env).returncode != 0:
            say(f"manage.py {step[0]} failed; the stack does not start.")
            return False
    # Beat's schedule file (settings.CELERY_BEAT_SCHEDULE_FILENAME) and private storage default to var/.
    (ROOT / "var").mkdir(exist_ok=True)
    return True


class Stack:
    def __init__(self, processes: dict[str, str], env: dict[str, str], output: Output):
        self.processes, self.env, self.output = processes, env, output
        self.running: dict[str, subprocess.Popen] = {}
        self.exited: dict[str, int] = {}
        self.readers: list[threading.Thread] = []
        self.stop_requested_at = None
        self.killed = False

    def say(self, text: str):
        self.output.line(SELF, text)

    def start(self):
        for name, command in self.processes.items():
            if self.stop_requested_at is not None:
                break
            # exec: the process itself, not a shell, gets the signals and gives the exit code.
            process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the terminal reaches this script only
            )
            self.running[name] = process
            self.say(f"{name} started (pid {process.pid}): {command}")
            reader = threading.Thread(target=self.relay, args=(name, process), daemon=True)
            reader.start()
            self.readers.append(reader)

    def relay(self, name: str, process: subprocess.Popen):
        for raw in iter(process.stdout.readline, b""):
            self.output.line(name, raw.decode(errors="replace"))
        process.stdout.close()

    def request_stop(self, reason: str):
        if self.stop_requested_at is not None:
            return
        self.stop_requested_at = time.monotonic()
        targets = [(name, p) for name, p in self.running.items() if name not in self.exited]
        self.say(f"{reason}: SIGTERM to " + ", ".join(f"{name} (pid {p.pid})" for name, p in targets))
        for _name, process in targets:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def kill_all(self, reason: str):
        self.killed = True
        for name, process in self.running.items():
            if name not in self.exited:
                self.say(f"{reason}: SIGKILL to {name} (pid {process.pid}) and its children")
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def watch(self) -> bool:
        """Until every process has exited; True when the stop was asked for and every exit was clean."""
        failed = False
        while len(self.exited) < len(self.running):
            for name, process in self.running.items():
                if name in self.exited or process.poll() is None:
                    continue
                self.exited[name] = process.returncode
                self.say(f"{name} exited with {process.returncode}")
                if self.stop_requested_at is None:
                    failed = True
                    self.request_stop(f"{name} stopped on its own")
            if (
                self.stop_requested_at is not None
                and not self.killed
                and time.monotonic() - self.stop_requested_at > STOP_TIMEOUT
            ):
                self.kill_all(f"still running {STOP_TIMEOUT} s after SIGTERM")
            time.sleep(0.1)
        for reader in self.readers:
            reader.join(timeout=5)
        clean = not failed and not self.killed and all(code == 0 for code in self.exited.values())
        self.say("stopped cleanly" if clean else "stopped, not cleanly: see the exit codes above")
        return clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile", help="default: the Procfile")
    args = parser.parse_args()
    processes = read_procfile(args.procfile)
    output = Output(max(len(SELF), *(len(name) for name in processes)))
    env = stack_environment()
    if not prepare(env, lambda text: output.line(SELF, text)):
        return 1
    stack = Stack(processes, env, output)

    def on_signal(signum, frame):
        if stack.stop_requested_at is None:
            stack.request_stop(f"{signal.Signals(signum).name} received")
        else:  # asked twice: do not wait any longer
            stack.kill_all(f"{signal.Signals(signum).name} received again")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stack.start()
    return 0 if stack.watch() else 1


if __name__ == "__main__":
    sys.exit(main())
